"""The daily digest: per district, to each registrar and secretary who has an address and has not
opted out, the counts waiting for them and a link to the page. Counts only, never a name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from models import Origin, Staff, StaffRole, Student, StudentStatus, SuggestionRow
from models.db import transaction
from worker.notify.ledger import send_once
from worker.notify.mail import Mail
from worker.ops_queries import district_status

DIGEST_ROLES = (StaffRole.REGISTRAR, StaffRole.SECRETARY)


@dataclass(frozen=True)
class DigestCounts:
    district_id: str
    district_name: str
    unlinked: int
    held: int
    possible_matches: int
    oldest_waiting_days: int | None

    @property
    def anything_waiting(self) -> bool:
        return self.unlinked > 0


def digest_counts(session: Session, district_id: str) -> DigestCounts:
    [status] = district_status(session, district_id)
    possible = session.scalar(
        select(func.count(func.distinct(SuggestionRow.created_record_id)))
        .join(
            Student,
            and_(
                Student.id == SuggestionRow.created_record_id,
                Student.district_id == SuggestionRow.district_id,
            ),
        )
        .where(
            SuggestionRow.district_id == district_id,
            Student.origin == Origin.CREATED,
            Student.status == StudentStatus.ACTIVE,
        )
    )
    age = status["oldest_unlinked_age_seconds"]
    return DigestCounts(
        district_id=district_id,
        district_name=status["district_name"],
        unlinked=status["unlinked"],
        held=status["held"],
        possible_matches=int(possible or 0),
        oldest_waiting_days=None if age is None else age // 86_400,
    )


def digest_recipients(session: Session, district_id: str) -> list[tuple[int, str]]:
    """(staff id, address) of the district's registrars and secretaries who want the digest."""
    rows = session.execute(
        select(Staff.id, Staff.email)
        .where(
            Staff.district_id == district_id,
            Staff.role.in_(DIGEST_ROLES),
            Staff.email.is_not(None),
            Staff.revoked_at.is_(None),
            Staff.digest_opted_out_at.is_(None),
        )
        .order_by(Staff.id)
    )
    return [(staff_id, email) for staff_id, email in rows if email]


def page_url(path: str) -> str:
    base = get_settings().public_url
    return f"{str(base).rstrip('/')}{path}" if base else f"the ale-sync staff pages, {path}"


def digest_mail(counts: DigestCounts, to: str) -> Mail:
    oldest = {None: "-", 0: "less than a day", 1: "1 day"}.get(
        counts.oldest_waiting_days, f"{counts.oldest_waiting_days} days"
    )
    body = "\n".join(
        [
            f"ALE students waiting to be linked in {counts.district_name} ({counts.district_id}):",
            "",
            f"  waiting to be linked:     {counts.unlinked}",
            f"  held for a person:        {counts.held}",
            f"  with a possible match:    {counts.possible_matches}",
            f"  oldest waiting for:       {oldest}",
            "",
            f"Link Student to ALE: {page_url('/link')}",
            "",
            f"To stop this daily e-mail: {page_url('/digest')}",
        ]
    )
    return Mail(to=to, subject=f"ALE students waiting to be linked: {counts.unlinked}", body=body)


def send_district_digest(engine: Engine, district_id: str, day: date) -> int:
    """The district's digest of DAY to each recipient not yet sent it; how many were sent now."""
    with transaction(engine) as session:
        counts = digest_counts(session, district_id)
        recipients = digest_recipients(session, district_id)
    if not counts.anything_waiting:
        return 0
    sent = 0
    for staff_id, address in recipients:
        key = f"digest:{district_id}:{day.isoformat()}:staff:{staff_id}"
        sent += send_once(engine, district_id, "digest", key, digest_mail(counts, address))
    return sent
