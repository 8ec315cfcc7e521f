"""The sync summary at the top of Link Student to ALE: when the SIS last delivered, what the last
applied delivery did, and whether a delivery waits for the district's operations team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.caller import Caller

# one statement: the newest delivery, the newest applied one, deliveries held for ops, and what
# matching did since the applied one began (links it made by itself, records it held for a person)
_SUMMARY = """
WITH newest AS (SELECT status, received_at FROM batches WHERE district_id = :d
                ORDER BY received_at DESC, id DESC LIMIT 1),
     applied AS (SELECT received_at, started_at, finished_at, inserted, updated, deactivated FROM batches
                 WHERE district_id = :d AND status = 'applied' ORDER BY received_at DESC, id DESC LIMIT 1),
     since AS (SELECT coalesce(started_at, received_at) AS moment FROM applied)
SELECT newest.status, newest.received_at, applied.finished_at, applied.received_at AS applied_received,
       applied.inserted, applied.updated, applied.deactivated,
       (SELECT count(*) FROM batches WHERE district_id = :d AND status = 'held') AS waiting,
       (SELECT count(*) FROM link_audit WHERE district_id = :d AND actor_kind = 'system'
          AND linked_at >= (SELECT moment FROM since)) AS linked,
       (SELECT count(*) FROM holds WHERE district_id = :d
          AND first_held_at >= (SELECT moment FROM since)) AS held
FROM (SELECT 1) AS one LEFT JOIN newest ON TRUE LEFT JOIN applied ON TRUE
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
    r = session.execute(text(_SUMMARY), {"d": caller.district_id}).one()
    if r.received_at is None:
        return SyncSummary(None, None, None)
    state = _state(str(r.status), r.waiting)
    if r.applied_received is None:
        return SyncSummary(
            r.received_at, str(r.status), None, deliveries_waiting_for_ops=r.waiting, state=state
        )
    return SyncSummary(
        r.received_at,
        str(r.status),
        r.finished_at or r.applied_received,
        r.inserted,
        r.updated,
        r.deactivated,
        r.linked,
        r.held,
        r.waiting,
        state,
    )
