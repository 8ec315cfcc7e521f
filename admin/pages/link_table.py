"""Link Student to ALE: the table (sync summary, states, filters, name search, sort, pages), the
review of a held or suggested record with its fixes, correcting ids, Recently linked, and the row
actions (search by name and link, dismiss a suggestion, delete); entering an SSID or Other ID to
link with has its own module, enter_id.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin import unlinked_table
from admin.auth import check_csrf
from admin.caller import Caller
from admin.created_records import RecordDetails, detail_checks, edit_created_record_ids, failing_checks
from admin.errors import Refused
from admin.identifiers import clean_other_id, clean_ssid
from admin.linking import open_suggestions, ranked_candidates
from admin.pages.rendering import (
    MISMATCH_UNCONFIRMED,
    ConfirmView,
    Csrf,
    Manager,
    RecordIdForm,
    RecordIdPath,
    RecordIdQuery,
    confirm_page,
    confirm_view,
    render,
    see,
    unlinked_record,
)
from admin.recent_links import recent_links
from admin.review import review_view
from admin.student_details import GRADES, district_schools
from admin.students import student_card
from admin.sync_summary import SyncSummary, sync_summary
from admin.unlinked_table import Filter, Sort, TableQuery, UnlinkedRow, unlinked_row
from matching import staff_links
from matching.core.vocabulary import LinkMethod
from matching.refusals import Refusal, RefusalCode
from matching.staff_links import preview_link

router = APIRouter()

PAGE_SIZE = 50
CANDIDATES = 20
CursorQuery = Annotated[str | None, Query(max_length=60)]
CursorForm = Annotated[str, Form(max_length=60)]
Done = Annotated[str | None, Query(max_length=20)]


def _table(request: Request, staff: Manager, query: TableQuery, **context: Any) -> HTMLResponse:
    table, summary = staff.read(_table_and_summary, query)
    return render(
        request, "link_table.html", staff.caller, table=table, summary=summary, query=query, **context
    )


def _table_and_summary(
    session: Session, caller: Caller, query: TableQuery
) -> tuple[unlinked_table.UnlinkedPage, SyncSummary]:
    """One transaction for the page: the summary first (the table's statements then plan per call)."""
    summary = sync_summary(session, caller)
    return unlinked_table.unlinked_page(session, caller, query), summary


@router.get("/link")
def link_table(
    *,
    request: Request,
    staff: Manager,
    state: Filter = Filter.NEEDS_PERSON,
    sort: Sort = Sort.OLDEST,
    after: CursorQuery = None,
    before: CursorQuery = None,
    done: Done = None,
    record: RecordIdQuery | None = None,
) -> HTMLResponse:
    query = TableQuery(state, sort, "", after, before, PAGE_SIZE)
    return _table(request, staff, query, done=_done(staff, done, record))


@router.post("/link")
def link_table_search(
    *,
    request: Request,
    staff: Manager,
    csrf_token: Csrf,
    names: Annotated[str, Form(max_length=100)] = "",
    state: Annotated[Filter, Form()] = Filter.NEEDS_PERSON,
    sort: Annotated[Sort, Form()] = Sort.OLDEST,
    after: CursorForm = "",
    before: CursorForm = "",
) -> HTMLResponse:
    """The table narrowed by the names typed in its search box (sent in the body, never the URL)."""
    check_csrf(request, staff.caller, csrf_token)
    names = names.replace("\x00", "")
    return _table(request, staff, TableQuery(state, sort, names, after or None, before or None, PAGE_SIZE))


def _done(staff: Manager, done: str | None, record: int | None) -> dict[str, Any] | None:
    """What the last action did, naming the students (a deleted record is gone: no name)."""
    if done not in ("linked", "deleted", "ids_saved", "dismissed"):
        return None
    if done == "deleted" or record is None:
        return {"kind": done}
    card = staff.read(student_card, record)
    linked_to = staff.read(student_card, card.merged_into_id) if card.merged_into_id else None
    return {"kind": done, "card": card, "linked_to": linked_to}


@router.get("/held")
def held() -> Response:
    """Held records are the table's Needs review filter."""
    return see("/link?state=held")


@router.get("/link/recent")
def recently_linked(request: Request, staff: Manager, after: CursorQuery = None) -> HTMLResponse:
    page = staff.read(recent_links, PAGE_SIZE, after)
    return render(request, "recent_links.html", staff.caller, page=page, after=after)


@router.get("/link/{created_record_id}/review")
def review(request: Request, staff: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    """A held or suggested record: its record and the students its ids point at, side by side,
    each with how it agrees field by field."""
    view = staff.read(review_view, created_record_id)
    if view is None:
        raise Refused(404, "not_found", "This record is no longer waiting to be linked.")
    return render(request, "link_review.html", staff.caller, row=view.row, evidence=view.evidence)


@router.get("/link/{created_record_id}/ids")
def ids_form(request: Request, staff: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    row = staff.read(unlinked_row, created_record_id)
    if row is None:
        raise Refused(404, "not_found", "This record is no longer waiting to be linked.")
    form = {"other_id": row.other_id, "birth_date": row.birth_date, "grade": row.grade}
    form["school_id"] = row.school_id
    return _ids_page(request, staff, row, form, {})


def _ids_page(
    request: Request, staff: Manager, row: UnlinkedRow, form: dict[str, Any], errors: dict[str, str]
) -> HTMLResponse:
    """The id editor with its choices (the district's schools, the grades)."""
    schools = staff.read(district_schools)
    return render(
        request, "edit_ids.html", staff.caller, 422 if errors else 200, row=row, form=form, errors=errors,
        schools=schools, grades=GRADES,
    )  # fmt: skip


@router.post("/link/{created_record_id}/ids")
def ids_submit(
    *,
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    ssid: Annotated[str, Form(max_length=64)] = "",
    other_id: Annotated[str, Form(max_length=100)] = "",
    remove_ssid: Annotated[bool, Form()] = False,
    birth_date: Annotated[str, Form(max_length=20)] = "",
    grade: Annotated[str, Form(max_length=20)] = "",
    school_id: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Correct or add the ids, birth date, grade and school: saved, matched at once; a blank SSID
    keeps the one on the record."""
    check_csrf(request, staff.caller, csrf_token)
    row = staff.read(unlinked_row, created_record_id)
    if row is None:
        raise Refused(404, "not_found", "This record is no longer waiting to be linked.")
    details = RecordDetails(birth_date, grade, school_id)
    errors = _id_errors(ssid, other_id) | failing_checks(detail_checks(details, staff.read(district_schools)))
    if errors:
        form = {"ssid": ssid, "other_id": other_id, **vars(details)}
        return _ids_page(request, staff, row, form, errors)
    kept = None if remove_ssid else (ssid.strip() or staff.read(_current_ssid, created_record_id))
    outcome = staff.change(edit_created_record_ids, created_record_id, kept, other_id, details=details)
    if outcome.match == "linked":
        return see(f"/link?done=linked&record={created_record_id}")
    if outcome.match == "held":
        return see(f"/link/{created_record_id}/review")
    return see(f"/link?done=ids_saved&record={created_record_id}&state=all")


def _id_errors(ssid: str, other_id: str) -> dict[str, str]:
    return failing_checks({"ssid": lambda: clean_ssid(ssid), "other_id": lambda: clean_other_id(other_id)})


def _current_ssid(session: Session, caller: Caller, created_record_id: int) -> str | None:
    return unlinked_record(session, caller, created_record_id).ssid


@router.get("/link/{created_record_id}/search")
def link_search(request: Request, staff: Manager, created_record_id: RecordIdPath) -> HTMLResponse:
    return render(request, "link_search.html", staff.caller, **staff.read(_search, created_record_id))


def _search(session: Session, caller: Caller, created_record_id: int) -> dict[str, Any]:
    row = unlinked_row(session, caller, created_record_id)
    if row is None:
        raise Refusal(RefusalCode.CREATED_RECORD_NOT_FOUND, created_record_id)
    return {
        "row": row,
        "candidates": ranked_candidates(session, caller, created_record_id, CANDIDATES),
        "suggested": open_suggestions(session, caller.district_id, created_record_id),
    }


@router.get("/link/{created_record_id}/confirm")
def link_confirm(
    request: Request, staff: Manager, created_record_id: RecordIdPath, sis_record_id: RecordIdQuery
) -> HTMLResponse:
    """Every refusal that can be known is answered here, before the page that offers the merge."""
    view = staff.read(_chosen, created_record_id, sis_record_id)
    return confirm_page(request, staff.caller, view, "name")


def _chosen(session: Session, caller: Caller, created_record_id: int, sis_record_id: int) -> ConfirmView:
    unlinked_record(session, caller, created_record_id)
    preview = preview_link(session, caller, created_record_id, sis_record_id, LinkMethod.NAME_SEARCH)
    return confirm_view(session, caller, created_record_id, preview)


@router.post("/link/{created_record_id}/confirm")
def link_confirmed(
    *,
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
    confirm_mismatch: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    try:
        staff.change(
            staff_links.link_chosen, created_record_id, sis_record_id, confirm_mismatch=confirm_mismatch
        )
    except Refusal as refusal:
        if refusal.code is not RefusalCode.EVIDENCE_DISAGREES:
            raise
        view = staff.read(_chosen, created_record_id, sis_record_id)
        return confirm_page(request, staff.caller, view, "name", error=MISMATCH_UNCONFIRMED)
    return see(f"/link?done=linked&record={created_record_id}")


@router.post("/link/{created_record_id}/dismiss")
def dismiss(
    *,
    request: Request,
    staff: Manager,
    created_record_id: RecordIdPath,
    csrf_token: Csrf,
    sis_record_id: RecordIdForm,
    back_to: Annotated[str, Form(max_length=10)] = "search",
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    staff.change(staff_links.dismiss_suggestion, created_record_id, sis_record_id)
    if back_to == "table":
        return see(f"/link?done=dismissed&record={created_record_id}")
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
