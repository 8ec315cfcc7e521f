"""Sign in with a staff token (a signed session cookie follows), sign out, and the home redirect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    check_csrf,
    log_denied,
    login_csrf_valid,
    new_login_csrf,
    new_session_cookie,
    staff_for_token,
)
from admin.pages.rendering import Csrf, PageCaller, render, see
from admin.roles import Permission
from config.settings import get_settings

router = APIRouter()


@router.get("/login")
def login_form(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login.html", csrf_token=token, error=error, status=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=get_settings().cookie_secure,
    )
    return response


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=200)], csrf_token: Csrf) -> Response:
    if not login_csrf_valid(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        log_denied(request, "csrf")
        return login_form(request, "The form expired. Please try again.", 403)
    caller = staff_for_token(token.strip())
    if caller is None:
        log_denied(request, "unknown_or_revoked_token")
        return login_form(request, "That token is not valid. Ask your administrator for a new one.", 401)
    response = see("/")
    response.set_cookie(
        SESSION_COOKIE,
        new_session_cookie(caller.staff_id),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=get_settings().cookie_secure,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, caller: PageCaller, csrf_token: Csrf) -> Response:
    check_csrf(request, caller, csrf_token)
    response = see("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(caller: PageCaller) -> Response:
    return see("/link" if caller.may(Permission.MANAGE_RECORDS) else "/selector")
