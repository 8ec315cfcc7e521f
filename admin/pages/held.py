"""Held records: the created records whose id match waits for a person, with the reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from admin import unlinked_table
from admin.pages.rendering import Manager, render

router = APIRouter()


@router.get("/held")
def held(request: Request, staff: Manager) -> HTMLResponse:
    return render(request, "held.html", staff.caller, rows=staff.read(unlinked_table.held_records))
