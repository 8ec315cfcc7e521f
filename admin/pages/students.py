"""A student's page (the record, this year's learning plan, the link history), the page a create
redirects to, and Start a learning plan with its confirmation naming the student and the year."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from admin import selector
from admin.auth import check_csrf
from admin.pages.rendering import Csrf, Manager, RecordIdPath, SelectorUser, render, see
from admin.recent_links import student_links
from admin.roles import Permission
from admin.staff_request import StaffRequest
from admin.students import StudentCard, student_card
from admin.unlinked_table import unlinked_row

router = APIRouter()

NOTICES = {"plan_started": "plan_started", "plan_existed": "plan_existed"}


@router.get("/students/{student_id}")
def student_page(
    request: Request, staff: SelectorUser, student_id: RecordIdPath, done: str | None = None
) -> HTMLResponse:
    card = staff.read(student_card, student_id)
    manager = staff.caller.may(Permission.MANAGE_RECORDS)
    history = staff.read(student_links, student_id) if manager else []
    return render(
        request, "student.html", staff.caller, card=card, history=history, done=NOTICES.get(done or "")
    )


@router.get("/students/{student_id}/created")
def created_page(request: Request, staff: Manager, student_id: RecordIdPath) -> HTMLResponse:
    """After a create: what became of the record, and Start a learning plan for the right student."""
    card = staff.read(student_card, student_id)
    linked_to = staff.read(student_card, card.merged_into_id) if card.merged_into_id else None
    row = staff.read(unlinked_row, student_id) if card.status == "active" else None
    return render(request, "created.html", staff.caller, card=card, linked_to=linked_to, row=row)


@router.get("/students/{student_id}/plan")
def plan_confirm(request: Request, staff: SelectorUser, student_id: RecordIdPath) -> HTMLResponse:
    card = staff.read(student_card, student_id)
    return render(request, "plan_confirm.html", staff.caller, card=_plan_target(staff, card))


def _plan_target(staff: StaffRequest, card: StudentCard) -> StudentCard:
    # a created record merged since: the plan belongs on the SIS student it became
    return staff.read(student_card, card.merged_into_id) if card.merged_into_id else card


@router.post("/students/{student_id}/plan")
def plan_start(request: Request, staff: SelectorUser, student_id: RecordIdPath, csrf_token: Csrf) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    outcome = staff.change(selector.initiate_learning_plan, student_id)
    done = "plan_started" if outcome.started else "plan_existed"
    return see(f"/students/{outcome.student_id}?done={done}")
