"""Server-rendered staff pages over the same staff functions as the JSON API.

Every form post carries a CSRF token. Names, SSIDs and Other IDs only ever travel in POST bodies;
URLs carry record ids and page numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from admin import selector, unlinked_table
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
    page_staff,
    staff_for_token,
)
from admin.created_records import NewCreatedRecord, create_created_record
from admin.errors import Refused, refused
from admin.identifiers import clean_entered_id, mask_ssid
from admin.linking import SisSummary, entered_sis_record, open_suggestions, ranked_candidates, sis_summaries
from admin.roles import Permission
from admin.staff_request import StaffRequest, staff_request
from config.settings import get_settings
from matching import staff_links
from matching.refusals import Refusal
from matching.staff_links import EnteredId, find_created_record
from models import Student

router = APIRouter(include_in_schema=False)

# --- rendering ---

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

PageCaller = Annotated[Caller, Depends(page_caller)]
Manager = Annotated[StaffRequest, staff_request(page_staff(Permission.MANAGE_RECORDS))]
SelectorUser = Annotated[StaffRequest, staff_request(page_staff(Permission.USE_SELECTOR))]
Csrf = Annotated[str, Form(max_length=200)]
RecordIdForm = Annotated[int, Form(ge=1, le=2**63 - 1)]
RecordIdPath = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
RecordIdQuery = Annotated[int, Query(ge=1, le=2**63 - 1)]
NOT_PAGES = ("/api/", "/health", "/ready", "/openapi.json", "/docs", "/redoc", "/static/")


def render(
    request: Request, template: str, caller: Caller | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"caller": caller, **context}, status_code=status)


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def refusal_page(request: Request, error: Refused | Refusal) -> HTMLResponse:
    answer = refused(error)
    return error_page(request, answer.status, answer.message)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", None, status=status, status_code=status, message=message)


async def to_login(request: Request, _error: NotAuthenticated) -> Response:
    return see("/login")


def unlinked_record(session: Session, caller: Caller, created_record_id: int) -> Student:
    return find_created_record(session, caller.district_id, created_record_id)


def confirm_page(
    request: Request, caller: Caller, record: Student, target: SisSummary, how: str, *, value: str = ""
) -> HTMLResponse:
    """The two records side by side before the permanent merge (chosen by name, or by an entered id)."""
    created = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "ssid_masked": mask_ssid(record.ssid),
        "other_id": record.other_id,
    }
    return render(
        request,
        "link_confirm.html",
        caller,
        record=record,
        created=created,
        target=target,
        how=how,
        value=value,
    )


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


# --- create ---


@router.get("/students/new")
def create_form(request: Request, staff: Manager) -> HTMLResponse:
    return render(request, "create.html", staff.caller, form={})


@router.post("/students/new")
def create_submit(
    *,
    request: Request,
    staff: Manager,
    csrf_token: Csrf,
    first_name: Annotated[str, Form(max_length=200)] = "",
    last_name: Annotated[str, Form(max_length=200)] = "",
    ssid: Annotated[str, Form(max_length=64)] = "",
    other_id: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    check_csrf(request, staff.caller, csrf_token)
    new = NewCreatedRecord(first_name, last_name, ssid, other_id)
    try:
        if "\x00" in first_name + last_name + ssid + other_id:
            raise Refused(422, "invalid_text", "the form holds characters that cannot be saved")
        outcome = staff.change(create_created_record, new)
    except Refused as refusal:
        return render(
            request, "create.html", staff.caller, status=refusal.status, form=new, error=refusal.message
        )
    return render(
        request,
        "create.html",
        staff.caller,
        form={},
        outcome=outcome,
        saved_name=f"{new.first_name} {new.last_name}",
    )


# --- selector ---

SearchText = Annotated[str, Form(max_length=100)]
PageNumber = Annotated[int, Form(ge=1, le=10_000)]
SELECTOR_PAGE_SIZE = 25


@router.get("/selector")
def selector_form(request: Request, staff: SelectorUser) -> HTMLResponse:
    return render(request, "selector.html", staff.caller, query="", result=None)


@router.post("/selector")
def selector_search(
    request: Request, staff: SelectorUser, csrf_token: Csrf, query: SearchText = "", page: PageNumber = 1
) -> HTMLResponse:
    check_csrf(request, staff.caller, csrf_token)
    return _results(request, staff, query, page)


@router.post("/selector/plan")
def selector_initiate_plan(
    *,
    request: Request,
    staff: SelectorUser,
    csrf_token: Csrf,
    student_id: RecordIdForm,
    query: SearchText = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    check_csrf(request, staff.caller, csrf_token)
    plan = staff.change(selector.initiate_learning_plan, student_id)
    return _results(request, staff, query, page, plan=plan)


def _results(request: Request, staff: StaffRequest, query: str, page: int, **extra: Any) -> HTMLResponse:
    try:
        if "\x00" in query:
            raise Refused(422, "invalid_text", "the search holds characters that cannot be searched")
        selector.refuse_if_blank(query)
        result = staff.read(selector.search_selector, query, max(page, 1), SELECTOR_PAGE_SIZE)
    except Refused as refusal:
        return render(
            request,
            "selector.html",
            staff.caller,
            status=refusal.status,
            query=query,
            result=None,
            error=refusal.message,
        )
    return render(request, "selector.html", staff.caller, query=query, result=result, **extra)


# --- link table ---

DONE_MESSAGES = {
    "linked": "Linked. The records are permanently merged and the student left this table.",
    "deleted": "The created record was deleted.",
}
PAGE_SIZE = 50
CANDIDATES = 20


@router.get("/link")
def link_table(request: Request, staff: Manager, page: int = 1, done: str | None = None) -> HTMLResponse:
    table = staff.read(unlinked_table.unlinked_page, min(max(page, 1), 10_000), PAGE_SIZE)
    return render(request, "link_table.html", staff.caller, table=table, notice=DONE_MESSAGES.get(done or ""))


@router.get("/link/{created_record_id}/search")
def link_search(request: Request, staff: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    return render(request, "link_search.html", staff.caller, **staff.read(_search, created_record_id))


def _search(session: Session, caller: Caller, created_record_id: int) -> dict[str, Any]:
    return {
        "record": unlinked_record(session, caller, created_record_id),
        "candidates": ranked_candidates(session, caller, created_record_id, CANDIDATES),
        "suggested": open_suggestions(session, caller.district_id, created_record_id),
    }


@router.get("/link/{created_record_id}/confirm")
def link_confirm(
    request: Request, staff: Manager, created_record_id: RecordIdPath, sis_record_id: RecordIdQuery
) -> HTMLResponse:
    record, target = staff.read(_chosen, created_record_id, sis_record_id)
    return confirm_page(request, staff.caller, record, target, "name")


def _chosen(
    session: Session, caller: Caller, created_record_id: int, sis_record_id: int
) -> tuple[Student, SisSummary]:
    record = unlinked_record(session, caller, created_record_id)
    target = sis_summaries(session, caller.district_id, [sis_record_id]).get(sis_record_id)
    if target is None:
        raise Refused(404, "not_found", "no such SIS record in your district")
    return record, target


@router.post("/link/{created_record_id}/confirm")
def link_confirmed(
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    staff.change(staff_links.link_chosen, created_record_id, sis_record_id)
    return see("/link?done=linked")


@router.post("/link/{created_record_id}/dismiss")
def dismiss(
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    staff.change(staff_links.dismiss_suggestion, created_record_id, sis_record_id)
    return see(f"/link/{created_record_id}/search")


@router.get("/link/{created_record_id}/delete")
def delete_confirm(request: Request, staff: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    record = staff.read(unlinked_record, created_record_id)
    return render(request, "delete_confirm.html", staff.caller, record=record)


@router.post("/link/{created_record_id}/delete")
def delete_confirmed(
    request: Request, staff: Manager, created_record_id: RecordIdPath, csrf_token: Csrf
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    staff.change(staff_links.delete_created_record, created_record_id)
    return see("/link?done=deleted")


# --- enter id ---


def _entered_id(how: str) -> EnteredId:
    try:
        return EnteredId(how)
    except ValueError:
        raise Refused(404, "not_found", "no such page") from None


@router.get("/link/{created_record_id}/enter/{how}")
def enter_id_form(
    request: Request, staff: Manager, created_record_id: RecordIdPath, how: str
) -> HTMLResponse:
    kind = _entered_id(how)
    record = staff.read(unlinked_record, created_record_id)
    return render(request, "enter_id.html", staff.caller, record=record, how=kind)


@router.post("/link/{created_record_id}/enter/{how}")
def enter_id_submit(
    *,
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    how: str,
    csrf_token: Csrf,
    value: Annotated[str, Form(max_length=100)] = "",
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    """First post: show which SIS record the id points at; second (confirmed) post: merge."""
    check_csrf(request, staff.caller, csrf_token)
    kind, value = _entered_id(how), value.replace("\x00", "")
    record = staff.read(unlinked_record, created_record_id)
    try:
        if confirmed:
            staff.change(
                staff_links.link_by_entered_id, created_record_id, kind, clean_entered_id(kind, value)
            )
            return see("/link?done=linked")
        target = staff.read(entered_sis_record, kind, clean_entered_id(kind, value))
    except (Refused, Refusal) as error:
        answer = refused(error)
        return render(
            request,
            "enter_id.html",
            staff.caller,
            status=answer.status,
            record=record,
            how=kind,
            error=answer.message,
        )
    return confirm_page(request, staff.caller, record, target, kind, value=value)


# --- held ---


@router.get("/held")
def held(request: Request, staff: Manager) -> HTMLResponse:
    return render(request, "held.html", staff.caller, rows=staff.read(unlinked_table.held_records))
