"""The sync summary at the top of Link Student to ALE: when the SIS last delivered, what the last
applied delivery did, and whether a delivery waits for the district's operations team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.auth import Caller

_LAST = """
SELECT status, received_at, finished_at, started_at, inserted, updated, deactivated
FROM batches WHERE district_id = :d {only} ORDER BY received_at DESC, id DESC LIMIT 1
"""
_WAITING_FOR_OPS = "SELECT count(*) FROM batches WHERE district_id = :d AND status = 'held'"
# what matching did after the delivery: links it made by itself, records it held for a person
_SINCE = """
SELECT (SELECT count(*) FROM link_audit WHERE district_id = :d AND actor_kind = 'system'
          AND linked_at >= :since) AS linked,
       (SELECT count(*) FROM holds WHERE district_id = :d AND first_held_at >= :since) AS held
"""


@dataclass(frozen=True)
class SyncSummary:
    last_delivery_at: datetime | None
    last_delivery_status: str | None  # received, ingesting, applied, held, rejected, failed
    applied_at: datetime | None  # the last delivery that was applied, and what it did
    new: int = 0
    changed: int = 0
    deactivated: int = 0
    linked_automatically: int = 0
    held_for_review: int = 0
    deliveries_waiting_for_ops: int = 0  # held whole: nothing of them is applied until ops decide
    state: str = "never"  # ok | held (a delivery waits for ops) | failed | rejected | never (no delivery yet)


def _state(last_status: str, waiting: int) -> str:
    if waiting:
        return "held"
    return last_status if last_status in ("failed", "rejected") else "ok"


def sync_summary(session: Session, caller: Caller) -> SyncSummary:
    district = {"d": caller.district_id}
    last = session.execute(text(_LAST.format(only="")), district).first()
    if last is None:
        return SyncSummary(None, None, None)
    applied = session.execute(text(_LAST.format(only="AND status = 'applied'")), district).first()
    waiting = session.execute(text(_WAITING_FOR_OPS), district).scalar_one()
    if applied is None:
        state = _state(str(last.status), waiting)
        return SyncSummary(
            last.received_at, str(last.status), None, deliveries_waiting_for_ops=waiting, state=state
        )
    since = applied.started_at or applied.received_at
    linked, held = session.execute(text(_SINCE), {**district, "since": since}).one()
    return SyncSummary(
        last.received_at,
        str(last.status),
        applied.finished_at or applied.received_at,
        applied.inserted,
        applied.updated,
        applied.deactivated,
        linked,
        held,
        waiting,
        _state(str(last.status), waiting),
    )
