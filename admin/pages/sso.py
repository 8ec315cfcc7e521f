"""District sign-in: `/login/sso?district=CODE` sends the browser to the district's provider;
`/login/sso/callback` takes its answer once, checks it, and opens a session for the mapped role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from admin.auth import log_denied
from admin.pages.login import DistrictCode, login_page, signed_in_answer
from admin.pages.rendering import render
from admin.rate_limits import limit_sign_in, limit_staff_sign_in
from admin.sessions import SESSION_COOKIE, open_session
from admin.sso.accounts import staff_for_identity
from admin.sso.flow import (
    ATTEMPT_LIFETIME,
    BROWSER_COOKIE,
    attempt_refusal,
    finish_sign_in,
    start_sign_in,
    take_attempt,
)
from admin.sso.refusals import SignInRefused
from admin.sso.role_mapping import role_for
from config.identity_provider import SecretUnavailable
from config.settings import get_settings
from models import SignInAttempt, StaffRole
from models.db import transaction
from models.sign_in import provider_settings

router = APIRouter()

CALLBACK_PATH = "/login/sso/callback"


def callback_url(request: Request) -> str:
    """The return address registered at the provider: PUBLIC_URL's, else this request's origin."""
    base = str(get_settings().public_url or request.base_url)
    return base.rstrip("/") + CALLBACK_PATH


@router.get("/login/sso")
def sso_start(request: Request, district: DistrictCode = "") -> Response:
    limit_sign_in(request)
    try:
        with transaction() as session:
            provider = provider_settings(session, district) if district else None
            started = start_sign_in(session, provider, callback_url(request)) if provider else None
    except (SignInRefused, SecretUnavailable) as problem:
        reason = problem.reason if isinstance(problem, SignInRefused) else "client_secret_unavailable"
        log_denied(request, reason)
        return login_page(request, district, "provider_unreachable", 502)
    if started is None:  # no such district, or one whose staff sign in with tokens
        return login_page(request, district)
    response = RedirectResponse(started.provider_url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry it
    response.set_cookie(
        BROWSER_COOKIE,
        started.browser_secret,
        max_age=int(ATTEMPT_LIFETIME.total_seconds()),
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


@router.get(CALLBACK_PATH)
def sso_callback(
    request: Request, state: str = "", code: str = "", error: str = "", iss: str = ""
) -> Response:
    limit_sign_in(request)
    with transaction() as session:
        attempt = take_attempt(session, state[:200])  # deleted and committed before any other check
    try:
        session_id = _sign_in(request, attempt, code=code, error=error, iss=iss)
    except SignInRefused as refused:
        log_denied(request, refused.reason, refused.staff_id)
        district = attempt.district_id if attempt else ""
        status = 403 if refused.message_code in ("not_mapped", "account_revoked") else 401
        answer: Response = login_page(request, district, refused.message_code, status)
    else:
        # a page, not a redirect: the session cookie is SameSite=Strict, and a browser would not send
        # it on a redirect that a cross-site navigation (the provider's) started
        answer = signed_in_answer(render(request, "login.html", signed_in=True), session_id)
    answer.delete_cookie(BROWSER_COOKIE, path=CALLBACK_PATH)
    return answer


def _sign_in(request: Request, attempt: SignInAttempt | None, **answer: Any) -> str:
    """Every check of the provider's answer, then the staff account and a new session's id."""
    problem = attempt_refusal(attempt, request.cookies.get(BROWSER_COOKIE))
    if problem or attempt is None:
        raise SignInRefused(problem or "unknown_or_used_state")
    with transaction() as session:
        provider = provider_settings(session, attempt.district_id)
    if provider is None:
        raise SignInRefused("provider_removed")
    if answer["error"] or not answer["code"]:
        raise SignInRefused("provider_error")
    if answer["iss"] and answer["iss"] != provider.issuer:  # RFC 9207: the answer names its issuer
        raise SignInRefused("issuer_mismatch")
    try:
        claims = finish_sign_in(provider, attempt, answer["code"], callback_url(request))
    except SecretUnavailable:
        raise SignInRefused("client_secret_unavailable") from None
    role = role_for(provider, claims)
    if role is None:
        raise SignInRefused("not_mapped")
    with transaction() as session:
        staff = staff_for_identity(session, provider, claims, StaffRole(role))
        limit_staff_sign_in(staff.id)
        return open_session(session, staff, request.cookies.get(SESSION_COOKIE))
