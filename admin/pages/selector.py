"""The Student Selector page: search by name, and Initiate Learning Plan from a result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from admin import selector
from admin.auth import check_csrf
from admin.errors import Refused
from admin.pages.rendering import Csrf, RecordIdForm, SelectorUser, render
from admin.staff_request import StaffRequest

router = APIRouter()

SearchText = Annotated[str, Form(max_length=100)]
PageNumber = Annotated[int, Form(ge=1, le=10_000)]
PAGE_SIZE = 25


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
        result = staff.read(selector.search_selector, query, max(page, 1), PAGE_SIZE)
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
