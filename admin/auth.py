"""Who is calling: a staff API token (JSON API) or a signed session cookie (pages), plus role checks.

A caller is always one staff member of one district; every query below takes its
district, so an id from another district is simply not found.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin.roles import Permission, allows
from admin.session_secret import session_secret
from models import Staff, StaffRole
from models.db import get_engine, transaction
from models.staff import hash_staff_token

logger = structlog.get_logger(__name__)

SESSION_COOKIE = "ale_session"
LOGIN_CSRF_COOKIE = "ale_login_csrf"
SESSION_MAX_AGE = 8 * 3600  # one working day
LAST_USED_GRANULARITY = timedelta(minutes=5)


@dataclass(frozen=True)
class Caller:
    staff_id: int
    district_id: str
    role: StaffRole
    name: str
    csrf_token: str = ""  # pages only: the token every form post must echo

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class NotAuthenticated(Exception):
    """The page request carries no valid session: the page answers with the login form."""


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
    return caller


def require(request: Request, caller: Caller, permission: Permission) -> None:
    if not caller.may(permission):
        log_denied(request, "role", caller.staff_id)
        raise HTTPException(403, "your role does not allow this")


def api_staff(permission: Permission) -> Any:
    """A dependency: the API caller, refused with 403 unless their role has the permission."""

    def dependency(request: Request, caller: Annotated[Caller, Depends(api_caller)]) -> Caller:
        require(request, caller, permission)
        return caller

    return Depends(dependency)


# --- pages: a signed session cookie, a CSRF token per session ---


def new_session_cookie(staff_id: int) -> str:
    return _serializer("session").dumps({"sid": staff_id, "csrf": secrets.token_urlsafe(24)})


def page_caller(request: Request) -> Caller:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise NotAuthenticated
    try:
        data = _serializer("session").loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        log_denied(request, "bad_session")
        raise NotAuthenticated from None
    with transaction(get_engine()) as session:
        staff = _active_staff(session, Staff.id == int(data["sid"]))
        if staff is None:
            log_denied(request, "revoked_session", int(data["sid"]))
            raise NotAuthenticated
        return Caller(staff.id, staff.district_id, staff.role, staff.name, str(data["csrf"]))


def page_staff(permission: Permission) -> Any:
    """A dependency: the signed-in page caller, refused with 403 unless their role has the permission."""

    def dependency(request: Request, caller: Annotated[Caller, Depends(page_caller)]) -> Caller:
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
