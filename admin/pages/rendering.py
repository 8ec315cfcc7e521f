"""What every staff page shares: rendering, redirects, error pages, the form fields and the caller.

Names, SSIDs and Other IDs only ever travel in POST bodies; URLs carry record ids and page numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from admin.auth import NotAuthenticated, page_caller, page_staff, signed_in
from admin.caller import Caller
from admin.errors import Refused, refused
from admin.identifiers import mask_ssid
from admin.linking import SisSummary, sis_summaries
from admin.roles import Permission
from admin.staff_request import StaffRequest, staff_request
from admin.students import student_card
from matching.refusals import Refusal
from matching.staff_links import LinkPreview, find_created_record
from models import Student

templates = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
# templates change only with a deploy: no file check at every include (a table page has 150)
templates.env.auto_reload = False

PageCaller = Annotated[Caller, Depends(page_caller)]
Manager = Annotated[StaffRequest, staff_request(page_staff(Permission.MANAGE_RECORDS))]
SelectorUser = Annotated[StaffRequest, staff_request(page_staff(Permission.USE_SELECTOR))]
Csrf = Annotated[str, Form(max_length=200)]
RecordIdForm = Annotated[int, Form(ge=1, le=2**63 - 1)]
RecordIdPath = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
RecordIdQuery = Annotated[int, Query(ge=1, le=2**63 - 1)]
MISMATCH_UNCONFIRMED = "Tick the box to confirm that you checked: the records disagree."
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


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """The error page, with the navigation and the signed-in staff member when there is one."""
    page = render(
        request, "error.html", _caller_if_any(request), status=status, status_code=status, message=message
    )
    page.headers.update(headers or {})
    return page


def _caller_if_any(request: Request) -> Caller | None:
    known = getattr(request.state, "caller", None)
    if isinstance(known, Caller):
        return known
    try:  # an unknown path, or a failure before the caller was looked up
        return signed_in(request)
    except Exception:  # no session, an ended one, or the database itself failing: no name shown
        return None


async def to_login(request: Request, error: NotAuthenticated) -> Response:
    return see("/login?notice=session_ended" if error.had_session else "/login")


def unlinked_record(session: Session, caller: Caller, created_record_id: int) -> Student:
    return find_created_record(session, caller.district_id, created_record_id)


@dataclass(frozen=True)
class ConfirmView:
    """The two records side by side before the permanent merge, and what the evidence says of them."""

    record: Student
    created: dict[str, Any]
    target: SisSummary
    preview: LinkPreview


def confirm_view(
    session: Session, caller: Caller, created_record_id: int, preview: LinkPreview
) -> ConfirmView:
    record = unlinked_record(session, caller, created_record_id)
    card = student_card(session, caller, created_record_id)
    target = sis_summaries(session, caller.district_id, [preview.sis_record_id])[preview.sis_record_id]
    created = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "ssid_masked": mask_ssid(record.ssid),
        "other_id": record.other_id,
        "birth_date": card.birth_date,
        "grade": card.grade,
        "school": card.school,
    }
    return ConfirmView(record, created, target, preview)


def confirm_page(
    request: Request, caller: Caller, view: ConfirmView, how: str, *, value: str = "", error: str = ""
) -> HTMLResponse:
    """The confirm page (chosen by name, or by an entered id); when the evidence does not
    corroborate the pair it lists the disagreeing fields and asks for a second confirmation."""
    return render(
        request,
        "link_confirm.html",
        caller,
        status=422 if error else 200,
        record=view.record,
        created=view.created,
        target=view.target,
        evidence=view.preview.evidence,
        how=how,
        value=value,
        error=error,
    )
