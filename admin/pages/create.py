"""Create Student for ALE: the form (errors beside their fields, a warning when a student of the
same or a very like name exists), then post/redirect/get to the saved record's page, so a reload
never creates twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin.auth import check_csrf
from admin.created_records import NewCreatedRecord, RecordDetails, create_created_record, form_errors
from admin.name_query import words
from admin.pages.rendering import Csrf, Manager, render, see
from admin.student_details import GRADES, district_schools
from admin.students import similar_students

router = APIRouter()


@router.get("/students/new")
def create_form(request: Request, staff: Manager) -> HTMLResponse:
    return _form(request, staff, None, {})


def _form(
    request: Request,
    staff: Manager,
    new: NewCreatedRecord | None,
    errors: dict[str, str],
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    """The form as typed, with its choices: the district's schools and the grades."""
    form = {**vars(new), **vars(new.details)} if new else {}
    schools = staff.read(district_schools)
    return render(
        request, "create.html", staff.caller, status, form=form, errors=errors, schools=schools,
        grades=GRADES, **context,
    )  # fmt: skip


def _names_checked(new: NewCreatedRecord) -> str:
    """The names the duplicate warning was shown for: a changed name is checked again."""
    return " ".join([*words(new.first_name), "/", *words(new.last_name)])


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
    birth_date: Annotated[str, Form(max_length=20)] = "",
    grade: Annotated[str, Form(max_length=20)] = "",
    school_id: Annotated[str, Form(max_length=100)] = "",
    checked_names: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(request, staff.caller, csrf_token)
    new = NewCreatedRecord(first_name, last_name, ssid, other_id, RecordDetails(birth_date, grade, school_id))
    errors = form_errors(new, staff.read(district_schools))
    if errors:
        return _form(request, staff, new, errors, status=422)
    similar = staff.read(similar_students, first_name, last_name)
    if similar and checked_names != _names_checked(new):
        return _form(request, staff, new, {}, similar=similar, checked_names=_names_checked(new))
    # created anyway: "a different student" from every SIS student the warning named
    others = tuple(s.student_id for s in similar if s.origin == "sis")
    outcome = staff.change(create_created_record, replace(new, different_from=others))
    return see(f"/students/{outcome.created_record_id}/created")
