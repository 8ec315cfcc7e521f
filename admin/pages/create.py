"""Create Student for ALE: the form, and the confirmation with the record's match outcome."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from admin.auth import check_csrf
from admin.created_records import NewCreatedRecord, create_created_record
from admin.errors import Refused
from admin.pages.rendering import Csrf, Manager, render

router = APIRouter()


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
