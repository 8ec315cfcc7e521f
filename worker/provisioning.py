"""Districts provisioned by ops before their SIS delivers anything: a code, a name, a time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.redaction import SafeMessage
from config.settings import DEFAULT_TIMEZONE, get_settings, timezone_problem
from models import District, Staff

# the state's district code (Washington's are five digits); letters for other states' schemes
DISTRICT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class ProvisionRefused(SafeMessage, ValueError):
    """The district cannot be added as asked; the message says why."""


@dataclass(frozen=True)
class Provisioned:
    district_id: str
    created: bool  # False: it was already there with the same name and time zone


def add_district(session: Session, code: str, name: str, timezone: str = DEFAULT_TIMEZONE) -> Provisioned:
    """Provision CODE; adding it again with the same name and zone changes nothing (scripts re-run)."""
    if not DISTRICT_CODE.fullmatch(code):
        raise ProvisionRefused(f"{code!r} is not a district code (letters, digits, - and _, at most 32)")
    if not name.strip():
        raise ProvisionRefused("the district needs a name")
    problem = timezone_problem(timezone)
    if problem:
        raise ProvisionRefused(problem)
    existing = session.get(District, code, with_for_update=True)
    if existing is None:
        session.add(District(id=code, name=name.strip(), timezone=timezone))
        session.flush()
        return Provisioned(code, created=True)
    if (existing.name, existing.timezone) != (name.strip(), timezone):
        raise ProvisionRefused(
            f"district {code} is already provisioned as {existing.name!r} ({existing.timezone})"
        )
    return Provisioned(code, created=False)


def district_rows(session: Session) -> list[dict[str, Any]]:
    """Every provisioned district with its zone, configured sources and staff accounts."""
    counted = (
        select(Staff.district_id, func.count().label("accounts"))
        .where(Staff.revoked_at.is_(None))
        .group_by(Staff.district_id)
    )
    staff = {row.district_id: int(row.accounts) for row in session.execute(counted)}
    sources = get_settings().sources_for()
    return [
        {
            "district_id": district.id,
            "name": district.name,
            "timezone": district.timezone,
            "sources": [s.name for s in sources if s.district == district.id],
            "staff": staff.get(district.id, 0),
            "created_at": district.created_at.isoformat(),
        }
        for district in session.scalars(select(District).order_by(District.id))
    ]
