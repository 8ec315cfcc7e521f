"""What the database says happened while a run went on: links and holds made by any process.

`ale-sync resync --wait` reports these rather than its own pass's counts: the worker, woken by
the same batch's event, may well have linked the records a second before the inline pass looked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import HoldRow, LinkAudit


def database_now(session: Session) -> datetime:
    """The database's clock, the one link and hold times are written with."""
    moment: datetime = session.execute(select(func.clock_timestamp())).scalar_one()
    return moment


def links_since(session: Session, district_ids: list[str], since: datetime) -> dict[str, int]:
    """Links made in each district since SINCE, by any process (worker, staff, this command)."""
    return _made_since(session, LinkAudit.district_id, LinkAudit.linked_at, district_ids, since)


def holds_since(session: Session, district_ids: list[str], since: datetime) -> dict[str, int]:
    """Created records newly held in each district since SINCE."""
    return _made_since(session, HoldRow.district_id, HoldRow.first_held_at, district_ids, since)


def _made_since(
    session: Session, district: Any, moment: Any, district_ids: list[str], since: datetime
) -> dict[str, int]:
    rows = session.execute(
        select(district, func.count()).where(district.in_(district_ids), moment >= since).group_by(district)
    )
    return {district_id: int(count) for district_id, count in rows}
