"""Links as staff read them: the district's links of the last 30 days, newest first ("Recently
linked"), and one student's link history, each naming both records and who linked them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.paging import cursor_text, parse_cursor

RECENT_DAYS = 30
METHOD_WORDS = {
    "ssid": "Automatically, by SSID",
    "other_id": "Automatically, by Other ID",
    "name_search": "By name search",
    "manual_ssid": "SSID entered by staff",
    "manual_other_id": "Other ID entered by staff",
}
_LINKS = """
SELECT a.id, a.linked_at, a.method, a.actor_kind, st.name AS staff_name, a.plans_moved,
       a.created_record_id, c.first_name AS created_first, c.last_name AS created_last,
       a.sis_record_id, t.first_name AS sis_first, t.last_name AS sis_last, t.grade AS sis_grade,
       sc.name AS sis_school, a.against_evidence
FROM link_audit a
JOIN students c ON c.id = a.created_record_id AND c.district_id = a.district_id
JOIN students t ON t.id = a.sis_record_id AND t.district_id = a.district_id
LEFT JOIN staff st ON st.id = a.actor_staff_id
LEFT JOIN schools sc ON sc.district_id = t.district_id AND sc.sis_source_id = t.school_id
WHERE a.district_id = :d AND {where}
ORDER BY a.linked_at {direction}, a.id {direction}
LIMIT :n
"""
_COUNT = "SELECT count(*) FROM link_audit a WHERE a.district_id = :d AND a.linked_at >= :since"


@dataclass(frozen=True)
class LinkEntry:
    audit_id: int
    linked_at: datetime
    method: str
    how: str  # the method in words
    linked_by: str  # a staff member's name, or "Automatic"
    automatic: bool
    plans_moved: int
    created_record_id: int
    created_name: str
    sis_record_id: int
    sis_name: str
    sis_grade: str | None
    sis_school: str | None
    against_evidence: list[str] | None = None  # linked by staff although these fields disagreed


@dataclass(frozen=True)
class RecentLinksPage:
    rows: list[LinkEntry]
    total: int  # links of the last RECENT_DAYS days
    days: int
    page_size: int
    next_after: str | None


def _entry(r: Any) -> LinkEntry:
    automatic = r.actor_kind == "system"
    return LinkEntry(
        r.id, r.linked_at, str(r.method), METHOD_WORDS.get(str(r.method), str(r.method)),
        "Automatic" if automatic else (r.staff_name or "A staff member"), automatic, r.plans_moved,
        r.created_record_id, f"{r.created_first} {r.created_last}",
        r.sis_record_id, f"{r.sis_first} {r.sis_last}", r.sis_grade, r.sis_school,
        list(r.against_evidence["fields"]) if r.against_evidence else None,
    )  # fmt: skip


def recent_links(
    session: Session, caller: Caller, page_size: int, after: str | None = None
) -> RecentLinksPage:
    """The district's links of the last 30 days, newest first, a page after the cursor."""
    since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
    params: dict[str, Any] = {"d": caller.district_id, "since": since, "n": page_size + 1}
    where = "a.linked_at >= :since"
    if after:
        params["at"], params["id"] = parse_cursor(after)
        where += " AND (a.linked_at, a.id) < (:at, :id)"
    found = session.execute(text(_LINKS.format(where=where, direction="DESC")), params).all()
    total = session.execute(text(_COUNT), params).scalar_one()
    rows = [_entry(r) for r in found[:page_size]]
    last = rows[-1] if rows else None
    more = len(found) > page_size and last is not None
    cursor = cursor_text(last.linked_at, last.audit_id) if more and last else None
    return RecentLinksPage(rows, total, RECENT_DAYS, page_size, cursor)


def student_links(session: Session, caller: Caller, student_id: int) -> list[LinkEntry]:
    """Every link that touched this student, as the created or the SIS record, oldest first."""
    where = "(a.created_record_id = :s OR a.sis_record_id = :s)"
    params = {"d": caller.district_id, "s": student_id, "n": 1000}
    return [_entry(r) for r in session.execute(text(_LINKS.format(where=where, direction="ASC")), params)]
