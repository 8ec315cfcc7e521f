"""Ops on a district's sync pauses: the window a command line names, add, list, remove, and how a
pause reads in `ale-sync status`. The edge (the CLI) owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from models import District
from models.pause import PauseAction, PauseKind, PauseState, PauseWindow, SyncPause, district_windows
from worker.sources.state import ensure_district


class PauseRefused(ValueError):
    """A pause that cannot be added or removed; the message says why in one line."""


def window_bound(text: str, *, end: bool) -> datetime:
    """A wall-clock bound from `2026-06-20` or `2026-06-20T18:00`; a date as an end means through
    that whole day (the window ends at the next midnight)."""
    try:
        if "T" not in text and " " not in text:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time())
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PauseRefused(
            f"{text!r} is not a date (2026-06-20) or a date and time (2026-06-20T18:00)"
        ) from None
    if moment.tzinfo is not None:
        raise PauseRefused(f"{text!r}: give the district's local time, without an offset")
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class NewPause:
    district_id: str
    kind: PauseKind
    action: PauseAction
    starts_local: datetime
    ends_local: datetime
    note: str | None = None
    created_by: str | None = None


def add_pause(session: Session, pause: NewPause) -> PauseWindow:
    """Store the pause of a stored or configured district."""
    if pause.ends_local <= pause.starts_local:
        raise PauseRefused("the pause must end after it starts")
    if session.get(District, pause.district_id) is None:
        if not get_settings().sources_for(pause.district_id):
            raise PauseRefused(f"no district {pause.district_id}")
        ensure_district(session, pause.district_id)
    row = SyncPause(**vars(pause))
    session.add(row)
    session.flush()
    return next(w for w in district_windows(session, pause.district_id) if w.pause_id == row.id)


def remove_pause(session: Session, pause_id: int) -> dict[str, Any]:
    """Delete a pause (one in force ends now); what it was, for the confirmation line."""
    removed = session.execute(delete(SyncPause).where(SyncPause.id == pause_id).returning(SyncPause)).scalar()
    if removed is None:
        raise PauseRefused(f"no pause {pause_id}")
    return {"pause_id": removed.id, "district_id": removed.district_id, "kind": str(removed.kind)}


def pause_rows(
    session: Session, now: datetime, district_id: str | None = None, *, ended: bool = False
) -> list[dict[str, Any]]:
    """Every district's pauses (or one's) in start order, each with its state at NOW; ended ones
    only when asked for."""
    query = select(SyncPause.district_id).distinct().order_by(SyncPause.district_id)
    if district_id is not None:
        query = query.where(SyncPause.district_id == district_id)
    rows = []
    for district in session.scalars(query):
        windows = district_windows(session, district, ending_after=None if ended else now)
        rows += [pause_row(w, now) for w in windows if ended or w.ends_at > now]
    return rows


def pause_row(window: PauseWindow, now: datetime) -> dict[str, Any]:
    state = "in force" if window.in_force(now) else "upcoming" if window.starts_at > now else "ended"
    return {
        "pause_id": window.pause_id,
        "district_id": window.district_id,
        "kind": str(window.kind),
        "action": str(window.action),
        "starts_at": local_text(window.starts_at, window),
        "ends_at": local_text(window.ends_at, window),
        "starts_at_utc": window.starts_at.isoformat(),
        "ends_at_utc": window.ends_at.isoformat(),
        "timezone": window.zone.key,
        "state": state,
        "note": window.note,
    }


def local_text(moment: datetime, window: PauseWindow) -> str:
    """An instant as the district's clock shows it, with the zone's abbreviation (PDT, PST)."""
    return moment.astimezone(window.zone).strftime("%Y-%m-%d %H:%M %Z")


def pause_summary(state: PauseState) -> dict[str, Any] | None:
    """The pause part of a district's status: in force, held deliveries waiting, or the next one."""
    now_or_next = state.in_force or state.upcoming
    if now_or_next is None and not state.deliveries_held:
        return None
    summary: dict[str, Any] = {
        "in_force": state.in_force is not None,
        "deliveries_held": state.deliveries_held,
    }
    if now_or_next is not None:
        summary |= {k: v for k, v in pause_row(now_or_next, now_or_next.starts_at).items() if k != "state"}
    return summary


def pause_text(summary: dict[str, Any] | None) -> str:
    """One cell of `ale-sync status`."""
    if summary is None:
        return "-"
    parts = []
    if summary.get("pause_id") is not None:
        when = f"until {summary['ends_at']}" if summary["in_force"] else f"from {summary['starts_at']}"
        state = "paused" if summary["in_force"] else "next"
        parts.append(f"{state}: {summary['kind']} {summary['action']} {when}")
    if summary["deliveries_held"]:
        parts.append(f"{summary['deliveries_held']} held by a pause")
    return "\n".join(parts)
