"""Staff typed an SSID or an Other ID in the unlinked table: find the SIS record, then merge
through the one link function."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.link import LinkOutcome, LinkRefused, link_created_record
from models import LinkMethod

_BY_ID = {
    "ssid": "SELECT id FROM students WHERE district_id = :d AND origin = 'sis' AND status = 'active'"
    " AND ssid = :value LIMIT 2",
    "other_id": "SELECT id FROM students WHERE district_id = :d AND origin = 'sis' AND status = 'active'"
    " AND other_id = :value LIMIT 2",
}


def link_by_ssid(
    session: Session, *, district_id: str, created_record_id: int, ssid: str, actor_staff_id: int
) -> LinkOutcome:
    """Link to the district's active SIS record with this SSID."""
    return _link_by(session, district_id, created_record_id, "ssid", ssid, actor_staff_id=actor_staff_id)


def link_by_other_id(
    session: Session, *, district_id: str, created_record_id: int, other_id: str, actor_staff_id: int
) -> LinkOutcome:
    """Link to the district's active SIS record with this Other ID (unique only within the district)."""
    return _link_by(
        session, district_id, created_record_id, "other_id", other_id, actor_staff_id=actor_staff_id
    )


def _link_by(
    session: Session, district_id: str, created_record_id: int, kind: str, value: str, *, actor_staff_id: int
) -> LinkOutcome:
    found = session.execute(text(_BY_ID[kind]), {"d": district_id, "value": value.strip()}).scalars().all()
    if not found:
        raise LinkRefused("not_found", created_record_id)
    if len(found) > 1:
        raise LinkRefused("ambiguous_other_id", created_record_id)
    sis_record_id = int(found[0])
    _refuse_if_taken(session, district_id, created_record_id, sis_record_id)
    method = LinkMethod.MANUAL_SSID if kind == "ssid" else LinkMethod.MANUAL_OTHER_ID
    return link_created_record(
        session,
        district_id=district_id,
        created_record_id=created_record_id,
        sis_record_id=sis_record_id,
        method=method,
        actor_staff_id=actor_staff_id,
    )


def _refuse_if_taken(session: Session, district_id: str, created_record_id: int, sis_record_id: int) -> None:
    """An SIS record that already has another created record merged into it is not linked again."""
    taken = session.execute(
        text(
            "SELECT 1 FROM link_audit WHERE district_id = :d AND sis_record_id = :s"
            " AND created_record_id <> :c LIMIT 1"
        ),
        {"d": district_id, "s": sis_record_id, "c": created_record_id},
    ).first()
    if taken is not None:
        raise LinkRefused("already_linked_elsewhere", created_record_id)
