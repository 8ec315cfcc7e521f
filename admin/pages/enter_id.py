"""Enter SSID / Enter Other ID: the id is looked up and its SIS record shown first; only the
confirmed second post merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin.auth import check_csrf
from admin.caller import Caller
from admin.errors import Refused, refused
from admin.identifiers import clean_entered_id
from admin.pages.rendering import (
    MISMATCH_UNCONFIRMED,
    ConfirmView,
    Csrf,
    Manager,
    RecordIdPath,
    confirm_page,
    confirm_view,
    render,
    see,
    unlinked_record,
)
from matching import staff_links
from matching.refusals import Refusal, RefusalCode
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
    confirm_mismatch: Annotated[bool, Form()] = False,
) -> Response:
    """First post: every refusal that can be known, then the SIS record the id points at and what the
    evidence says; second (confirmed) post: merge, once more confirmed when the fields disagree."""
    check_csrf(request, staff.caller, csrf_token)
    kind, value = _entered_id(how), value.replace("\x00", "")
    record = staff.read(unlinked_record, created_record_id)
    try:
        entered = clean_entered_id(kind, value)
        if confirmed:
            staff.change(
                staff_links.link_by_entered_id,
                created_record_id,
                kind,
                entered,
                confirm_mismatch=confirm_mismatch,
            )
            return see(f"/link?done=linked&record={created_record_id}")
        view = staff.read(_entered_view, created_record_id, kind, entered)
    except (Refused, Refusal) as error:
        if isinstance(error, Refusal) and error.code is RefusalCode.EVIDENCE_DISAGREES:
            view = staff.read(_entered_view, created_record_id, kind, entered)
            return confirm_page(request, staff.caller, view, kind, value=value, error=MISMATCH_UNCONFIRMED)
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
    return confirm_page(request, staff.caller, view, kind, value=value)


def _entered_view(
    session: Session, caller: Caller, created_record_id: int, kind: EnteredId, value: str
) -> ConfirmView:
    preview = staff_links.preview_entered_id(session, caller, created_record_id, kind, value)
    return confirm_view(session, caller, created_record_id, preview)
