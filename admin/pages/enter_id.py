"""Enter SSID / Enter Other ID: the id is looked up and its SIS record shown first; only the
confirmed second post merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin.auth import check_csrf
from admin.errors import Refused, refused
from admin.identifiers import clean_entered_id
from admin.linking import entered_sis_record
from admin.pages.rendering import Csrf, Manager, RecordIdPath, confirm_page, render, see, unlinked_record
from matching import staff_links
from matching.refusals import Refusal
from matching.staff_links import EnteredId

router = APIRouter()


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
            return see(f"/link?done=linked&record={created_record_id}")
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
            value=value,
        )
    return confirm_page(request, staff.caller, record, target, kind, value=value)
