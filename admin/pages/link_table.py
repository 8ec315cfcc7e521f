"""Link Student to ALE: the unlinked table and its row actions (search by name and link, dismiss a
suggestion, delete); entering an SSID or Other ID has its own module, enter_id.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin import unlinked_table
from admin.auth import check_csrf
from admin.caller import Caller
from admin.errors import Refused
from admin.linking import SisSummary, open_suggestions, ranked_candidates, sis_summaries
from admin.pages.rendering import (
    Csrf,
    Manager,
    RecordIdForm,
    RecordIdPath,
    RecordIdQuery,
    confirm_page,
    render,
    see,
    unlinked_record,
)
from matching import staff_links
from models import Student

router = APIRouter()

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
