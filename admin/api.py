"""The JSON API (Authorization: Bearer <staff token>): each handler runs one staff function in its
request's transaction (`StaffRequest`), the same functions the pages call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from admin import linking, selector, unlinked_table
from admin.auth import api_staff
from admin.created_records import (
    CreateOutcome,
    NewCreatedRecord,
    RecordDetails,
    create_created_record,
    edit_created_record_ids,
)
from admin.identifiers import clean_entered_id
from admin.linking import Candidate, LinkHistoryEntry
from admin.rate_limits import limit_requests_by_address
from admin.recent_links import RecentLinksPage, recent_links
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
    UnlinkedSearchIn,
)
from admin.selector import PlanOutcome, SelectorPage
from admin.staff_request import StaffRequest, staff_request
from admin.sync_summary import SyncSummary, sync_summary
from admin.unlinked_table import Filter, Sort, TableQuery, UnlinkedPage
from matching import staff_links
from matching.link import LinkOutcome
from matching.staff_links import EnteredId

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "the request body could not be read",
        401: "no valid staff token",
        403: "your role does not allow this",
        404: "no such record in your district",
        409: "the record's state does not allow this",
        422: "the request is not valid",
        429: "too many requests from this address or staff member (see Retry-After)",
        500: "the request failed on the server's side",
    }.items()
}

router = APIRouter(prefix="/api", responses=ERRORS, dependencies=[Depends(limit_requests_by_address)])

Manager = Annotated[StaffRequest, staff_request(api_staff(Permission.MANAGE_RECORDS))]
SelectorUser = Annotated[StaffRequest, staff_request(api_staff(Permission.USE_SELECTOR))]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=60, description="a page's cursor from the previous answer")]


@router.get("/me", response_model=CallerOut, tags=["staff"])
def who_am_i(staff: SelectorUser) -> CallerOut:
    caller = staff.caller
    return CallerOut(
        staff_id=caller.staff_id, name=caller.name, role=caller.role, district_id=caller.district_id
    )


@router.post("/students", response_model=CreateOutcome, status_code=201, tags=["create"])
def create_student(body: CreateStudentIn, staff: Manager) -> Any:
    """Create Student for ALE; one saved with an SSID or Other ID is matched at once. A birth date,
    grade and school (each optional) tell namesakes apart in every match and search.
    `similar_students` lists the district's students of the same or a very like name that existed
    before this one (as the create form warns of them): show them, the student may already be there."""
    details = RecordDetails(body.birth_date, body.grade, body.school_id)
    new = NewCreatedRecord(body.first_name, body.last_name, body.ssid, body.other_id, details)
    return staff.change(create_created_record, new, tell_similar=True)


@router.post("/selector/search", response_model=SelectorPage, tags=["selector"])
def search_selector(body: SelectorSearchIn, staff: SelectorUser) -> Any:
    """The Student Selector: active students of both origins whose first or last names begin with the
    words, surname matches first; `next_after` asks for the next page. `total` is exact up to 1,000
    (`total_exact` false past it)."""
    selector.refuse_if_blank(body.query)
    return staff.read(selector.search_selector, body.query, body.page_size, body.after)


@router.post(
    "/students/{student_id}/learning-plans",
    response_model=PlanOutcome,
    status_code=201,
    tags=["selector"],
    responses={200: {"model": PlanOutcome, "description": "the student already had this year's plan"}},
)
def initiate_learning_plan(student_id: RecordId, staff: SelectorUser, response: Response) -> Any:
    """Initiate this school year's Student Learning Plan (200 with the existing one if already started)."""
    outcome = staff.change(selector.initiate_learning_plan, student_id)
    if not outcome.started:
        response.status_code = 200
    return outcome


@router.get("/students/{student_id}/links", response_model=list[LinkHistoryEntry], tags=["link"])
def link_history(student_id: RecordId, staff: Manager) -> Any:
    """Every link that touched this student: how, by whom (or automatic), when, from which batch."""
    return staff.read(linking.link_history, student_id)


@router.get("/unlinked", response_model=UnlinkedPage, tags=["link"])
def unlinked(
    *,
    staff: Manager,
    state: Filter = Filter.ALL,
    sort: Sort = Sort.OLDEST,
    after: Cursor = None,
    before: Cursor = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Any:
    """Link Student to ALE: the district's created records not yet linked, each with its state
    (`held`, `suggested`, `no_id`, `waiting`), the counts per state, and `total` in the chosen one.
    Pages by `next_after` / `previous_before` (or by `page`)."""
    offset = (page - 1) * page_size
    query = TableQuery(state, sort, "", after, before, page_size, offset)
    return staff.read(unlinked_table.unlinked_page, query)


@router.post("/unlinked/search", response_model=UnlinkedPage, tags=["link"])
def unlinked_search(body: UnlinkedSearchIn, staff: Manager) -> Any:
    """The unlinked table narrowed to the names typed (sent in the body, so never in a URL)."""
    query = TableQuery(body.state, body.sort, body.names, body.after, body.before, body.page_size)
    return staff.read(unlinked_table.unlinked_page, query)


@router.get("/unlinked/{created_record_id}/candidates", response_model=list[Candidate], tags=["link"])
def candidates(
    created_record_id: RecordId, staff: Manager, limit: Annotated[int, Query(ge=1, le=50)] = 20
) -> Any:
    """Search by name: active SIS records ranked by similarity to the record's name, each score explained."""
    return staff.read(linking.ranked_candidates, created_record_id, limit)


@router.post("/unlinked/{created_record_id}/link", response_model=LinkOutcome, tags=["link"])
def link(created_record_id: RecordId, body: LinkIn, staff: Manager) -> Any:
    """Permanently merge the created record into the chosen SIS record. 409 `evidence_disagrees`
    (with the disagreeing fields) when the evidence does not corroborate the pair, unless
    `confirm_mismatch` is true."""
    return staff.change(
        staff_links.link_chosen, created_record_id, body.sis_record_id, confirm_mismatch=body.confirm_mismatch
    )


@router.post("/unlinked/{created_record_id}/link-by-ssid", response_model=LinkOutcome, tags=["link"])
def link_by_ssid(created_record_id: RecordId, body: LinkBySsidIn, staff: Manager) -> Any:
    """Enter SSID: 404 when no active SIS record has it, 409 when that one is already linked, or
    inactive, or (`evidence_disagrees`) its fields disagree and `confirm_mismatch` is not set."""
    ssid = clean_entered_id(EnteredId.SSID, body.ssid)
    return staff.change(
        staff_links.link_by_entered_id,
        created_record_id,
        EnteredId.SSID,
        ssid,
        confirm_mismatch=body.confirm_mismatch,
    )


@router.post("/unlinked/{created_record_id}/link-by-other-id", response_model=LinkOutcome, tags=["link"])
def link_by_other_id(created_record_id: RecordId, body: LinkByOtherIdIn, staff: Manager) -> Any:
    """Enter Other ID: 404 not found, 409 already linked, inactive or `evidence_disagrees` (as for
    the SSID), 422 when the record's SSID contradicts it."""
    other_id = clean_entered_id(EnteredId.OTHER_ID, body.other_id)
    return staff.change(
        staff_links.link_by_entered_id,
        created_record_id,
        EnteredId.OTHER_ID,
        other_id,
        confirm_mismatch=body.confirm_mismatch,
    )


@router.put("/unlinked/{created_record_id}/ids", response_model=CreateOutcome, tags=["link"])
def edit_ids(created_record_id: RecordId, body: EditIdsIn, staff: Manager) -> Any:
    """Correct or add the SSID / Other ID of an unlinked record, and its birth date, grade and school
    when sent; it is matched again at once."""
    details = _details_sent(body)
    return staff.change(edit_created_record_ids, created_record_id, body.ssid, body.other_id, details=details)


def _details_sent(body: EditIdsIn) -> RecordDetails | None:
    """The details as they will be: those sent replace, those not sent are kept (None: none sent)."""
    details = {"birth_date", "grade", "school_id"}
    sent = body.model_fields_set & details
    if not sent:
        return None
    return RecordDetails(body.birth_date, body.grade, body.school_id, keep=frozenset(details - sent))


@router.delete("/unlinked/{created_record_id}", status_code=204, tags=["link"])
def delete_unlinked(created_record_id: RecordId, staff: Manager) -> Response:
    """Delete a created record; 409 once any learning plan was ever created on it."""
    staff.change(staff_links.delete_created_record, created_record_id)
    return Response(status_code=204)


@router.post("/unlinked/{created_record_id}/dismiss", status_code=204, tags=["link"])
def dismiss_suggestion(created_record_id: RecordId, body: DismissIn, staff: Manager) -> Response:
    """Not this student: the suggested SIS record is never suggested for this record again."""
    staff.change(staff_links.dismiss_suggestion, created_record_id, body.sis_record_id)
    return Response(status_code=204)


@router.get("/held", response_model=UnlinkedPage, tags=["link"])
def held(staff: Manager, after: Cursor = None, page_size: PageSize = 50) -> Any:
    """Records whose id match needs a person, oldest first, with the reason and the students the
    ids point at (`pointed_at`, each with the ids it shares); `total` counts them all."""
    query = TableQuery(Filter.HELD, Sort.OLDEST, "", after, None, page_size)
    return staff.read(unlinked_table.unlinked_page, query)


@router.get("/links/recent", response_model=RecentLinksPage, tags=["link"])
def links_recent(staff: Manager, after: Cursor = None, page_size: PageSize = 50) -> Any:
    """Links of the last 30 days, newest first: automatic and by whom; `total` counts them all."""
    return staff.read(recent_links, page_size, after)


@router.get("/sync-summary", response_model=SyncSummary, tags=["link"])
def sync(staff: Manager) -> Any:
    """When the SIS last delivered, what the last applied delivery did, and deliveries held for ops."""
    return staff.read(sync_summary)
