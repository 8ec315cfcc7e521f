"""A staff member's own choice about the daily digest e-mail: read it, stop it, resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.caller import Caller
from models import Staff


@dataclass(frozen=True)
class DigestChoice:
    has_address: bool
    receives: bool


def digest_choice(session: Session, caller: Caller) -> DigestChoice:
    email, opted_out = session.execute(
        select(Staff.email, Staff.digest_opted_out_at).where(
            Staff.id == caller.staff_id, Staff.district_id == caller.district_id
        )
    ).one()
    return DigestChoice(has_address=bool(email), receives=opted_out is None)


def choose_digest(session: Session, caller: Caller, receive: bool) -> DigestChoice:
    staff = session.scalars(
        select(Staff).where(Staff.id == caller.staff_id, Staff.district_id == caller.district_id)
    ).one()
    staff.digest_opted_out_at = None if receive else datetime.now(UTC)
    return DigestChoice(has_address=bool(staff.email), receives=receive)
