"""The Student Selector page: search by name (the words travel in the form body, never the URL),
then Initiate Learning Plan through a confirmation naming the student and the school year."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from admin import selector
from admin.auth import check_csrf
from admin.errors import Refused
from admin.pages.rendering import Csrf, SelectorUser, render

router = APIRouter()

SearchText = Annotated[str, Form(max_length=100)]
CursorText = Annotated[str, Form(max_length=300)]
PAGE_SIZE = 25


@router.get("/selector")
def selector_form(request: Request, staff: SelectorUser) -> HTMLResponse:
    return render(request, "selector.html", staff.caller, query="", result=None)


@router.post("/selector")
def selector_search(
    *,
    request: Request,
    staff: SelectorUser,
    csrf_token: Csrf,
    query: SearchText = "",
    after: CursorText = "",
    trail: CursorText = "",
) -> HTMLResponse:
    """One page of results; `trail` holds the cursors of the pages before, for Previous."""
    check_csrf(request, staff.caller, csrf_token)
    try:
        if "\x00" in query:
            raise Refused(422, "invalid_text", "The search holds a character that cannot be searched.")
        selector.refuse_if_blank(query)
        result = staff.read(selector.search_selector, query, PAGE_SIZE, after or None)
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
    before = trail.split()
    previous = (before[-1].replace("start", ""), " ".join(before[:-1])) if before else None
    return render(
        request,
        "selector.html",
        staff.caller,
        query=query,
        result=result,
        first_shown=len(before) * PAGE_SIZE + 1,
        next_trail=" ".join([*before, after or "start"]),
        previous=previous,
    )
