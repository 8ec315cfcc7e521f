"""Server-rendered staff pages over the same functions as the JSON API; every form post carries a CSRF token.

Names, SSIDs and Other IDs only ever travel in POST bodies; URLs carry record ids and page numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from admin import link_actions, selector, unlinked_table
from admin.after_commit import publish_district_events
from admin.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Caller,
    NotAuthenticated,
    check_csrf,
    log_denied,
    login_csrf_valid,
    new_login_csrf,
    new_session_cookie,
    page_caller,
    require,
    staff_for_token,
)
from admin.created_records import NewCreatedRecord, create_created_record, delete_created_record
from admin.errors import Refused
from admin.identifiers import clean_other_id, clean_ssid, mask_ssid
from admin.roles import Permission
from config.settings import get_settings
from models import Student
from models.db import get_engine, transaction

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

PageCaller = Annotated[Caller, Depends(page_caller)]
Csrf = Annotated[str, Form(max_length=200)]
RecordIdForm = Annotated[int, Form(ge=1, le=2**63 - 1)]
RecordIdPath = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
RecordIdQuery = Annotated[int, Query(ge=1, le=2**63 - 1)]
NOT_PAGES = ("/api/", "/health", "/ready", "/openapi.json", "/docs", "/redoc", "/static/")
DONE_MESSAGES = {
    "linked": "Linked. The records are permanently merged and the student left this table.",
    "deleted": "The created record was deleted.",
}
PAGE_SIZE = 50


def created_card(record: Student) -> dict[str, Any]:
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "ssid_masked": mask_ssid(record.ssid),
        "other_id": record.other_id,
    }


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def render(
    request: Request, template: str, caller: Caller | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"caller": caller, **context}, status_code=status)


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def manager(request: Request, caller: PageCaller) -> Caller:
    require(request, caller, Permission.MANAGE_RECORDS)
    return caller


Manager = Annotated[Caller, Depends(manager)]


async def to_login(request: Request, _error: NotAuthenticated) -> Response:
    return see("/login")


def refusal_page(request: Request, refusal: Refused) -> HTMLResponse:
    return error_page(request, refusal.status, refusal.message)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", None, status=status, status_code=status, message=message)


# --- login ---


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


# --- Create Student for ALE ---


@router.get("/students/new")
def create_form(request: Request, caller: Manager) -> HTMLResponse:
    return render(request, "create.html", caller, form={})


@router.post("/students/new")
def create_submit(
    *,
    request: Request,
    caller: Manager,
    csrf_token: Csrf,
    first_name: Annotated[str, Form(max_length=200)] = "",
    last_name: Annotated[str, Form(max_length=200)] = "",
    ssid: Annotated[str, Form(max_length=64)] = "",
    other_id: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    check_csrf(request, caller, csrf_token)
    new = NewCreatedRecord(first_name, last_name, ssid, other_id)
    try:
        if "\x00" in first_name + last_name + ssid + other_id:
            raise Refused(422, "invalid_text", "the form holds characters that cannot be saved")
        with transaction(get_engine()) as session:
            outcome = create_created_record(session, caller, new)
    except Refused as refusal:
        return render(request, "create.html", caller, status=refusal.status, form=new, error=refusal.message)
    page = render(
        request,
        "create.html",
        caller,
        form={},
        outcome=outcome,
        saved_name=f"{new.first_name} {new.last_name}",
    )
    page.background = publish_district_events(caller.district_id)
    return page


# --- Student Selector ---


@router.get("/selector")
def selector_form(request: Request, caller: PageCaller) -> HTMLResponse:
    require(request, caller, Permission.USE_SELECTOR)
    return render(request, "selector.html", caller, query="", result=None)


def _selector_results(request: Request, caller: Caller, query: str, page: int, **extra: Any) -> HTMLResponse:
    try:
        if "\x00" in query:
            raise Refused(422, "invalid_text", "the search holds characters that cannot be searched")
        selector.refuse_if_blank(query)
        with transaction(get_engine()) as session:
            result = selector.search_selector(session, caller.district_id, query, max(page, 1), 25)
    except Refused as refusal:
        return render(
            request,
            "selector.html",
            caller,
            status=refusal.status,
            query=query,
            result=None,
            error=refusal.message,
        )
    return render(request, "selector.html", caller, query=query, result=result, **extra)


@router.post("/selector")
def selector_search(
    request: Request,
    caller: PageCaller,
    csrf_token: Csrf,
    query: Annotated[str, Form(max_length=100)] = "",
    page: Annotated[int, Form(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    check_csrf(request, caller, csrf_token)
    require(request, caller, Permission.USE_SELECTOR)
    return _selector_results(request, caller, query, page)


@router.post("/selector/plan")
def selector_initiate_plan(
    *,
    request: Request,
    caller: PageCaller,
    csrf_token: Csrf,
    student_id: RecordIdForm,
    query: Annotated[str, Form(max_length=100)] = "",
    page: Annotated[int, Form(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    check_csrf(request, caller, csrf_token)
    require(request, caller, Permission.USE_SELECTOR)
    with transaction(get_engine()) as session:
        plan = selector.initiate_learning_plan(session, caller, student_id)
    return _selector_results(request, caller, query, page, plan=plan)


# --- Link Student to ALE ---


@router.get("/link")
def link_table(request: Request, caller: Manager, page: int = 1, done: str | None = None) -> HTMLResponse:
    page = min(max(page, 1), 10_000)
    with transaction(get_engine()) as session:
        table = unlinked_table.unlinked_page(session, caller.district_id, page, PAGE_SIZE)
    return render(request, "link_table.html", caller, table=table, notice=DONE_MESSAGES.get(done or ""))


@router.get("/link/{created_record_id}/search")
def link_search(request: Request, caller: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    with transaction(get_engine()) as session:
        record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
        candidates = link_actions.ranked_candidates(session, caller, created_record_id, 20)
        suggested = link_actions.open_suggestions(session, caller.district_id, created_record_id)
    return render(
        request, "link_search.html", caller, record=record, candidates=candidates, suggested=suggested
    )


@router.get("/link/{created_record_id}/confirm")
def link_confirm(
    request: Request, caller: Manager, created_record_id: RecordIdPath, sis_record_id: RecordIdQuery
) -> HTMLResponse:
    with transaction(get_engine()) as session:
        record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
        target = link_actions.sis_summaries(session, caller.district_id, [sis_record_id]).get(sis_record_id)
    if target is None:
        raise Refused(404, "not_found", "no such SIS record in your district")
    return render(
        request,
        "link_confirm.html",
        caller,
        record=record,
        created=created_card(record),
        target=target,
        how="name",
        value="",
    )


@router.post("/link/{created_record_id}/confirm")
def link_confirmed(
    request: Request,
    caller: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
) -> Response:
    check_csrf(request, caller, csrf_token)
    with transaction(get_engine()) as session:
        link_actions.link_to_sis_record(session, caller, created_record_id, sis_record_id)
    return see("/link?done=linked")


@router.get("/link/{created_record_id}/enter/{how}")
def enter_id_form(
    request: Request, caller: Manager, created_record_id: RecordIdPath, how: str
) -> HTMLResponse:
    kind = _id_kind(how)
    with transaction(get_engine()) as session:
        record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
    return render(request, "enter_id.html", caller, record=record, how=kind)


def _id_kind(how: str) -> str:
    if how not in ("ssid", "other_id"):
        raise Refused(404, "not_found", "no such page")
    return how


@router.post("/link/{created_record_id}/enter/{how}")
def enter_id_submit(
    *,
    request: Request,
    caller: Manager,
    created_record_id: RecordIdPath,
    how: str,
    csrf_token: Csrf,
    value: Annotated[str, Form(max_length=100)] = "",
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    """First post: show which SIS record the id points at; second (confirmed) post: merge."""
    check_csrf(request, caller, csrf_token)
    kind = _id_kind(how)
    ids = {kind: value.replace("\x00", "")}
    try:
        with transaction(get_engine()) as session:
            record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
            if confirmed:
                link_actions.link_by_entered_id(session, caller, created_record_id, **ids)
                return see("/link?done=linked")
            if kind == "ssid":
                clean_ssid(ids[kind])
            else:
                clean_other_id(ids[kind])
            target = link_actions.find_sis_by_id(session, caller.district_id, **ids)
            if target is None:
                raise Refused(404, "not_found", link_actions.REFUSAL_TEXT["not_found"])
    except Refused as refusal:
        with transaction(get_engine()) as session:
            record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
        return render(
            request,
            "enter_id.html",
            caller,
            status=refusal.status,
            record=record,
            how=kind,
            error=refusal.message,
        )
    return render(
        request,
        "link_confirm.html",
        caller,
        record=record,
        created=created_card(record),
        target=target,
        how=kind,
        value=ids[kind],
    )


@router.post("/link/{created_record_id}/dismiss")
def dismiss(
    request: Request,
    caller: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
) -> Response:
    check_csrf(request, caller, csrf_token)
    with transaction(get_engine()) as session:
        link_actions.dismiss(session, caller, created_record_id, sis_record_id)
    return see(f"/link/{created_record_id}/search")


@router.get("/link/{created_record_id}/delete")
def delete_confirm(request: Request, caller: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    with transaction(get_engine()) as session:
        record = link_actions.unlinked_record(session, caller.district_id, created_record_id)
    return render(request, "delete_confirm.html", caller, record=record)


@router.post("/link/{created_record_id}/delete")
def delete_confirmed(
    request: Request, caller: Manager, created_record_id: RecordIdPath, csrf_token: Csrf
) -> Response:
    check_csrf(request, caller, csrf_token)
    with transaction(get_engine()) as session:
        delete_created_record(session, caller, created_record_id)
    return see("/link?done=deleted")


# --- held records ---


@router.get("/held")
def held(request: Request, caller: Manager) -> HTMLResponse:
    with transaction(get_engine()) as session:
        rows = unlinked_table.held_records(session, caller.district_id)
    return render(request, "held.html", caller, rows=rows)
