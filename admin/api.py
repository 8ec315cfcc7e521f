"""The JSON API (Authorization: Bearer <staff token>). Every handler owns its one transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Response

from admin import link_actions, selector, unlinked_table
from admin.auth import Caller, api_staff
from admin.created_records import (
    CreateOutcome,
    NewCreatedRecord,
    create_created_record,
    delete_created_record,
    edit_created_record_ids,
)
from admin.link_actions import Candidate, LinkHistoryEntry, LinkResult
from admin.roles import Permission
from admin.schemas import (
    CallerOut,
    CreateStudentIn,
    DismissIn,
    EditIdsIn,
    ErrorOut,
    LinkByOtherIdIn,
    LinkBySsidIn,
    LinkIn,
    RecordId,
    SelectorSearchIn,
)
from admin.selector import PlanOutcome, SelectorPage
from admin.unlinked_table import HeldRow, UnlinkedPage
from models.db import get_engine, transaction
from worker.outbox import publish_pending

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "the request body could not be read",
        401: "no valid staff token",
        403: "your role does not allow this",
        404: "no such record in your district",
        409: "the record's state does not allow this",
        422: "the request is not valid",
    }.items()
}

router = APIRouter(prefix="/api", responses=ERRORS)

Manager = Annotated[Caller, api_staff(Permission.MANAGE_RECORDS)]
SelectorUser = Annotated[Caller, api_staff(Permission.USE_SELECTOR)]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


@router.get("/me", response_model=CallerOut, tags=["staff"])
def who_am_i(caller: SelectorUser) -> CallerOut:
    return CallerOut(
        staff_id=caller.staff_id, name=caller.name, role=caller.role, district_id=caller.district_id
    )


@router.post("/students", response_model=CreateOutcome, status_code=201, tags=["create"])
def create_student(body: CreateStudentIn, caller: Manager, tasks: BackgroundTasks) -> Any:
    """Create Student for ALE; one saved with an SSID or Other ID is matched at once."""
    with transaction(get_engine()) as session:
        new = NewCreatedRecord(body.first_name, body.last_name, body.ssid, body.other_id)
        outcome = create_created_record(session, caller, new)
    tasks.add_task(publish_pending, district_id=caller.district_id)
    return outcome


@router.post("/selector/search", response_model=SelectorPage, tags=["selector"])
def search_selector(body: SelectorSearchIn, caller: SelectorUser) -> Any:
    """The Student Selector: active students of both origins whose names begin with the words."""
    selector.refuse_if_blank(body.query)
    with transaction(get_engine()) as session:
        return selector.search_selector(session, caller.district_id, body.query, body.page, body.page_size)


@router.post(
    "/students/{student_id}/learning-plans",
    response_model=PlanOutcome,
    status_code=201,
    tags=["selector"],
    responses={200: {"model": PlanOutcome, "description": "the student already had this year's plan"}},
)
def initiate_learning_plan(student_id: RecordId, caller: SelectorUser, response: Response) -> Any:
    """Initiate this school year's Student Learning Plan (200 with the existing one if already started)."""
    with transaction(get_engine()) as session:
        outcome = selector.initiate_learning_plan(session, caller, student_id)
    if not outcome.started:
        response.status_code = 200
    return outcome


@router.get("/students/{student_id}/links", response_model=list[LinkHistoryEntry], tags=["link"])
def link_history(student_id: RecordId, caller: Manager) -> Any:
    """Every link that touched this student: how, by whom (or automatic), when, from which batch."""
    with transaction(get_engine()) as session:
        return link_actions.link_history(session, caller.district_id, student_id)


@router.get("/unlinked", response_model=UnlinkedPage, tags=["link"])
def unlinked(caller: Manager, page: Page = 1, page_size: PageSize = 50) -> Any:
    """Link Student to ALE: the district's created records not yet linked, newest first."""
    with transaction(get_engine()) as session:
        return unlinked_table.unlinked_page(session, caller.district_id, page, page_size)


@router.get("/unlinked/{created_record_id}/candidates", response_model=list[Candidate], tags=["link"])
def candidates(
    created_record_id: RecordId, caller: Manager, limit: Annotated[int, Query(ge=1, le=50)] = 20
) -> Any:
    """Search by name: active SIS records ranked by similarity to the record's name, each score explained."""
    with transaction(get_engine()) as session:
        return link_actions.ranked_candidates(session, caller, created_record_id, limit)


@router.post("/unlinked/{created_record_id}/link", response_model=LinkResult, tags=["link"])
def link(created_record_id: RecordId, body: LinkIn, caller: Manager) -> Any:
    """Permanently merge the created record into the chosen SIS record."""
    with transaction(get_engine()) as session:
        return link_actions.link_to_sis_record(session, caller, created_record_id, body.sis_record_id)


@router.post("/unlinked/{created_record_id}/link-by-ssid", response_model=LinkResult, tags=["link"])
def link_by_ssid(created_record_id: RecordId, body: LinkBySsidIn, caller: Manager) -> Any:
    """Enter SSID: 404 when no active SIS record has it, 409 when that one is already linked."""
    with transaction(get_engine()) as session:
        return link_actions.link_by_entered_id(session, caller, created_record_id, ssid=body.ssid)


@router.post("/unlinked/{created_record_id}/link-by-other-id", response_model=LinkResult, tags=["link"])
def link_by_other_id(created_record_id: RecordId, body: LinkByOtherIdIn, caller: Manager) -> Any:
    """Enter Other ID: 404 not found, 409 already linked, 422 when the record's SSID contradicts it."""
    with transaction(get_engine()) as session:
        return link_actions.link_by_entered_id(session, caller, created_record_id, other_id=body.other_id)


@router.put("/unlinked/{created_record_id}/ids", response_model=CreateOutcome, tags=["link"])
def edit_ids(created_record_id: RecordId, body: EditIdsIn, caller: Manager, tasks: BackgroundTasks) -> Any:
    """Correct or add the SSID / Other ID of an unlinked record; it is matched again at once."""
    with transaction(get_engine()) as session:
        outcome = edit_created_record_ids(session, caller, created_record_id, body.ssid, body.other_id)
    tasks.add_task(publish_pending, district_id=caller.district_id)
    return outcome


@router.delete("/unlinked/{created_record_id}", status_code=204, tags=["link"])
def delete_unlinked(created_record_id: RecordId, caller: Manager) -> Response:
    """Delete a created record; 409 once any learning plan was ever created on it."""
    with transaction(get_engine()) as session:
        delete_created_record(session, caller, created_record_id)
    return Response(status_code=204)


@router.post("/unlinked/{created_record_id}/dismiss", status_code=204, tags=["link"])
def dismiss_suggestion(created_record_id: RecordId, body: DismissIn, caller: Manager) -> Response:
    """Not this student: the suggested SIS record is never suggested for this record again."""
    with transaction(get_engine()) as session:
        link_actions.dismiss(session, caller, created_record_id, body.sis_record_id)
    return Response(status_code=204)


@router.get("/held", response_model=list[HeldRow], tags=["link"])
def held(caller: Manager) -> Any:
    """Records whose id match needs a person, with the reason and the candidate it pointed at."""
    with transaction(get_engine()) as session:
        return unlinked_table.held_records(session, caller.district_id)
