"""The login page: the district is chosen first (`/login?district=CODE`, remembered in a cookie);
a district with an identity provider signs in there (admin/pages/sso.py), one without pastes a
staff token. Sign out ends every session of the staff member. The page shows only its own texts,
picked by code; nothing in the query string sets its words or its status.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from admin.auth import (
    LOGIN_CSRF_COOKIE,
    check_csrf,
    log_denied,
    login_csrf_valid,
    new_login_csrf,
    staff_for_token,
)
from admin.pages.rendering import Csrf, PageCaller, render, see
from admin.rate_limits import limit_sign_in, limit_staff_sign_in
from admin.roles import Permission
from admin.sessions import SESSION_COOKIE, end_sessions_of, lifetime, open_session
from config.settings import get_settings
from models import District, Staff
from models.db import transaction
from models.sign_in import provider_settings

router = APIRouter()

DISTRICT_COOKIE = "ale_district"  # the district code last chosen here: not personal, saves a step
MESSAGES = {
    "signed_out": "You are signed out.",
    "session_ended": "Your session ended. Please sign in again.",
    "form_expired": "The form expired. Please try again.",
    "bad_token": "That token is not valid. Ask your administrator for a new one.",
    "use_district_sign_in": "Your district signs in with its own account: use the button below.",
    "use_token": "Your district no longer signs in with its own account here: paste your staff token.",
    "sign_in_failed": "Signing in with your district account did not finish. Please try again.",
    "not_mapped": "Your district account is not given access to ALE student records. "
    "Ask your district's administrator.",
    "account_revoked": "This account's access was removed. Ask your administrator.",
    "provider_unreachable": "Your district's sign-in service did not answer. Try again in a few minutes.",
    "unknown_district": "No district has that code. Check it and try again.",
}
NOTICES = ("signed_out", "session_ended")  # the only codes a link may carry: they say nothing false
DistrictCode = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]*$")]


def _district(code: str) -> tuple[District | None, bool]:
    """The district and whether its staff sign in through its identity provider."""
    with transaction() as session:
        district = session.get(District, code) if code else None
        return district, district is not None and provider_settings(session, code) is not None


def login_page(
    request: Request,
    district_code: str = "",
    message: str | None = None,
    status: int = 200,
    *,
    choose: bool = False,
) -> HTMLResponse:
    """The page for this district: chooser, district sign-in button, or token form."""
    code = district_code or ("" if choose else request.cookies.get(DISTRICT_COOKIE, ""))
    district, uses_provider = _district(code if code.isascii() and len(code) <= 32 else "")
    if district_code and district is None:
        message, status = message or "unknown_district", 404
    csrf = new_login_csrf()
    page = render(
        request,
        "login.html",
        status=status,
        csrf_token=csrf,
        district=district,
        uses_provider=uses_provider,
        message=MESSAGES.get(message or ""),
        notice=message in NOTICES,
    )
    secure = get_settings().cookie_secure
    page.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="strict", secure=secure)
    if district is not None:
        page.set_cookie(
            DISTRICT_COOKIE, district.id, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure
        )
    return page


@router.get("/login")
def login_form(
    request: Request, district: DistrictCode = "", notice: str = "", choose: bool = False
) -> HTMLResponse:
    return login_page(request, district, notice if notice in NOTICES else None, choose=choose)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=200)], csrf_token: Csrf) -> Response:
    """Token sign-in, for districts without an identity provider."""
    limit_sign_in(request)
    if not login_csrf_valid(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        log_denied(request, "csrf")
        return login_page(request, message="form_expired", status=403)
    caller = staff_for_token(token.strip())
    if caller is None:
        log_denied(request, "unknown_or_revoked_token")
        return login_page(request, message="bad_token", status=401)
    with transaction() as session:
        session_id = None
        if provider_settings(session, caller.district_id) is None:
            limit_staff_sign_in(caller.staff_id)
            staff = session.get_one(Staff, caller.staff_id)
            session_id = open_session(session, staff, request.cookies.get(SESSION_COOKIE))
    if session_id is None:
        log_denied(request, "token_sign_in_not_allowed", caller.staff_id)
        return login_page(request, caller.district_id, "use_district_sign_in", 403)
    return signed_in_answer(see("/"), session_id)


def signed_in_answer(response: Response, session_id: str) -> Response:
    """`response` carrying the new session's cookie; the sign-in form's own cookie is dropped."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime().total_seconds()),
        httponly=True,
        samesite="strict",
        secure=get_settings().cookie_secure,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, caller: PageCaller, csrf_token: Csrf) -> Response:
    """Sign out: every session of this staff member ends, on every browser."""
    check_csrf(request, caller, csrf_token)
    with transaction() as session:
        end_sessions_of(session, caller.staff_id)
    response = see("/login?notice=signed_out")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(caller: PageCaller) -> Response:
    return see("/link" if caller.may(Permission.MANAGE_RECORDS) else "/selector")
