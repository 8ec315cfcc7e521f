"""The sync summary at the top of Link Student to ALE: when the SIS last delivered, what the last
applied delivery did, whether a delivery waits for the district's operations team, and whether
the district's sync is paused (or a pause is coming)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.caller import Caller
from models.pause import PauseWindow, pause_state

# a pause starting within this many days is announced before it begins
PAUSE_NOTICE_DAYS = 14

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
class PauseNotice:
    """A pause in force, or the next one; times in the district's zone."""

    in_force: bool
    kind: str  # blackout | summer
    action: str  # skip: deliveries are read when it ends | hold: read, kept for ops to review
    starts_at: datetime
    ends_at: datetime  # exclusive
    through: date | None  # the last day paused, when the pause ends at a midnight
    note: str | None


def _notice(window: PauseWindow, now: datetime) -> PauseNotice:
    ends = window.ends_at.astimezone(window.zone)
    through = ends.date() - timedelta(days=1) if ends.time() == time() else None
    return PauseNotice(
        window.in_force(now),
        str(window.kind),
        str(window.action),
        window.starts_at.astimezone(window.zone),
        ends,
        through,
        window.note,
    )


def pause_notice(session: Session, district_id: str, now: datetime) -> PauseNotice | None:
    state = pause_state(session, district_id, now)
    if state.in_force is not None:
        return _notice(state.in_force, now)
    coming = state.upcoming
    if coming is not None and coming.starts_at - now <= timedelta(days=PAUSE_NOTICE_DAYS):
        return _notice(coming, now)
    return None


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
    pause: PauseNotice | None = None  # the pause in force, or one starting soon


def _state(last_status: str, waiting: int) -> str:
    if waiting:
        return "held"
    return last_status if last_status in ("failed", "rejected") else "ok"


def sync_summary(session: Session, caller: Caller, now: datetime | None = None) -> SyncSummary:
    r = session.execute(text(_SUMMARY), {"d": caller.district_id}).one()
    pause = pause_notice(session, caller.district_id, now or datetime.now(UTC))
    if r.received_at is None:
        return SyncSummary(None, None, None, pause=pause)
    state = _state(str(r.status), r.waiting)
    if r.applied_received is None:
        return SyncSummary(
            r.received_at, str(r.status), None, deliveries_waiting_for_ops=r.waiting, state=state, pause=pause
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
        pause,
    )
