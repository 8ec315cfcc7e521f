"""Who is calling: a staff API token (JSON API) or a server-side session (pages), plus role checks.

A caller is always one staff member of one district; every query below takes its
district, so an id from another district is simply not found.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.rate_limits import limit_staff_requests
from admin.roles import Permission
from admin.session_secret import session_secret
from admin.sessions import SESSION_COOKIE, SessionEnded, current_session
from models import Staff
from models.db import get_engine, transaction
from models.staff import hash_staff_token

logger = structlog.get_logger(__name__)

LOGIN_CSRF_COOKIE = "ale_login_csrf"
LAST_USED_GRANULARITY = timedelta(minutes=5)


class NotAuthenticated(Exception):
    """The page request carries no valid session: the page answers with the login form
    (saying the session ended when the browser had one)."""

    def __init__(self, had_session: bool = False) -> None:
        super().__init__(had_session)
        self.had_session = had_session


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(), salt=f"ale-sync.{purpose}")


def route_name(request: Request) -> str:
    """The matched route's template (ids as placeholders); a path no route knows is not logged."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "(no route)"))


def log_denied(request: Request, reason: str, staff_id: int | None = None) -> None:
    logger.warning("admin_access_denied", reason=reason, staff_id=staff_id, route=route_name(request))


def _active_staff(session: Session, *clauses: Any) -> Staff | None:
    return session.execute(select(Staff).where(Staff.revoked_at.is_(None), *clauses)).scalar_one_or_none()


def _touch(session: Session, staff: Staff) -> None:
    now = datetime.now(UTC)
    if staff.last_used_at is None or now - staff.last_used_at > LAST_USED_GRANULARITY:
        session.execute(update(Staff).where(Staff.id == staff.id).values(last_used_at=now))


def staff_for_token(token: str) -> Caller | None:
    with transaction(get_engine()) as session:
        staff = _active_staff(session, Staff.token_hash == hash_staff_token(token))
        if staff is None:
            return None
        _touch(session, staff)
        return Caller(staff.id, staff.district_id, staff.role, staff.name)


_bearer = HTTPBearer(auto_error=False, description="A staff API token (`ale-sync staff add`).")


def api_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        log_denied(request, "no_token")
        raise HTTPException(401, "a staff API token is required", {"WWW-Authenticate": "Bearer"})
    caller = staff_for_token(credentials.credentials)
    if caller is None:
        log_denied(request, "unknown_or_revoked_token")
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return admitted(request, caller)


def admitted(request: Request, caller: Caller) -> Caller:
    """The caller, counted against their request limit and kept for the error pages' navigation."""
    limit_staff_requests(caller.staff_id)
    request.state.caller = caller
    return caller


def require(request: Request, caller: Caller, permission: Permission) -> None:
    if not caller.may(permission):
        log_denied(request, "role", caller.staff_id)
        raise HTTPException(403, "your role does not allow this")


def api_staff(permission: Permission) -> Any:
    """A dependency: the API caller, refused with 403 unless their role has the permission."""

    # async: no I/O, so no hop to the thread pool (each costs a wait for the GIL under load)
    async def dependency(request: Request, caller: Annotated[Caller, Depends(api_caller)]) -> Caller:
        require(request, caller, permission)
        return caller

    return Depends(dependency)


# --- pages: a server-side session (admin/sessions.py), a CSRF token per session ---


def signed_in(request: Request) -> Caller:
    """The page's staff member from the session cookie, or `SessionEnded` (nothing logged)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise SessionEnded("no_session")
    with transaction(get_engine()) as session:
        found = current_session(session, session_id)
    if isinstance(found, SessionEnded):
        raise found
    return found


def page_caller(request: Request) -> Caller:
    try:
        caller = signed_in(request)
    except SessionEnded as ended:
        if ended.reason == "no_session":
            raise NotAuthenticated from None
        log_denied(request, ended.reason, ended.staff_id)
        raise NotAuthenticated(had_session=True) from None
    return admitted(request, caller)


def page_staff(permission: Permission) -> Any:
    """A dependency: the signed-in page caller, refused with 403 unless their role has the permission."""

    async def dependency(request: Request, caller: Annotated[Caller, Depends(page_caller)]) -> Caller:
        require(request, caller, permission)
        return caller

    return Depends(dependency)


def check_csrf(request: Request, caller: Caller, submitted: str) -> None:
    if not secrets.compare_digest(submitted.encode(), caller.csrf_token.encode()):
        log_denied(request, "csrf", caller.staff_id)
        raise HTTPException(403, "the form expired; reload the page and try again")


def new_login_csrf() -> str:
    return _serializer("login").dumps(secrets.token_urlsafe(16))


def login_csrf_valid(cookie: str | None, submitted: str) -> bool:
    if not cookie or not secrets.compare_digest(cookie.encode(), submitted.encode()):
        return False
    try:
        _serializer("login").loads(submitted, max_age=3600)
    except BadSignature:
        return False
    return True
