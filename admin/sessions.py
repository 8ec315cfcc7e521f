"""Server-side staff page sessions: the cookie carries a random id, the row says who it is.

A session ends at the next request when its staff member signed out (every session of theirs is
deleted), was revoked, or had their role changed; and after SESSION_IDLE_MINUTES without a request
or SESSION_LIFETIME_HOURS after sign-in. Signing in always opens a new id (the old one is deleted).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from admin.caller import Caller
from config.settings import get_settings
from models import Staff, StaffSession

SESSION_COOKIE = "ale_session"
# last_seen_at is written at most this often: the idle timeout is accurate to a minute
TOUCH_EVERY = timedelta(minutes=1)


class SessionEnded(Exception):
    """The cookie opens nothing (any more); `reason` is logged, `staff_id` when known."""

    def __init__(self, reason: str, staff_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.staff_id = staff_id


def digest(secret: str) -> str:
    """What is stored for a random secret (a session id, a sign-in state): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(hours=get_settings().session_lifetime_hours)


def idle_timeout() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


def open_session(session: Session, staff: Staff, replacing: str | None) -> str:
    """A fresh session for `staff`; the id the browser held before (if any) ends here."""
    if replacing:
        session.execute(delete(StaffSession).where(StaffSession.id_hash == digest(replacing)))
    session.execute(
        delete(StaffSession).where(
            StaffSession.staff_id == staff.id, StaffSession.created_at < datetime.now(UTC) - lifetime()
        )
    )
    session_id = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id_hash=digest(session_id),
            staff_id=staff.id,
            role=staff.role,
            csrf_token=secrets.token_urlsafe(24),
        )
    )
    return session_id


def end_sessions_of(session: Session, staff_id: int) -> None:
    """Every session of this staff member ends at its next request."""
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


def current_session(session: Session, session_id: str) -> Caller | SessionEnded:
    """Who the cookie's session belongs to, or why it has ended (ended for good by this transaction,
    so the caller raises only after committing)."""
    row = session.execute(
        select(*_SESSION_COLUMNS)
        .join(Staff, Staff.id == StaffSession.staff_id)
        .where(StaffSession.id_hash == digest(session_id))
    ).one_or_none()  # a plain row: no ORM objects on every page request
    if row is None:
        return SessionEnded("unknown_session")
    now = datetime.now(UTC)
    ended = _why_ended(row, now)
    if ended in ("revoked", "role_changed"):
        end_sessions_of(session, row.staff_id)
    elif ended:
        session.execute(delete(StaffSession).where(StaffSession.id_hash == row.id_hash))
    if ended:
        return SessionEnded(ended, row.staff_id)
    if now - row.last_seen_at > TOUCH_EVERY:
        session.execute(
            update(StaffSession).where(StaffSession.id_hash == row.id_hash).values(last_seen_at=now)
        )
    return Caller(row.staff_id, row.district_id, row.staff_role, row.name, row.csrf_token)


_SESSION_COLUMNS = (
    StaffSession.id_hash,
    StaffSession.staff_id,
    StaffSession.role,
    StaffSession.csrf_token,
    StaffSession.created_at,
    StaffSession.last_seen_at,
    Staff.district_id,
    Staff.name,
    Staff.role.label("staff_role"),
    Staff.revoked_at,
)


def _why_ended(row: Any, now: datetime) -> str | None:
    if row.revoked_at is not None:
        return "revoked"
    if row.staff_role != row.role:
        return "role_changed"
    if now - row.created_at > lifetime():
        return "session_expired"
    if now - row.last_seen_at > idle_timeout():
        return "session_idle"
    return None
