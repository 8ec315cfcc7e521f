"""Request and response bodies of the JSON API: only what each screen needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Postgres text cannot hold NUL; refusing it here keeps a typo from ever reaching the store
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    code: str = Field(description="a stable word, e.g. not_found, already_linked_elsewhere")
    message: str
    fields: list[str] = Field(default_factory=list, description="request fields that were not valid")


class CallerOut(Out):
    staff_id: int
    name: str
    role: str
    district_id: str


class CreateStudentIn(BaseModel):
    first_name: Annotated[Text, Field(min_length=1, max_length=100)]
    last_name: Annotated[Text, Field(min_length=1, max_length=100)]
    ssid: Annotated[Text | None, Field(max_length=32, description="the state's SSID, if known")] = None
    other_id: Annotated[Text | None, Field(max_length=64, description="the district's student number")] = None


class CreateOutcomeOut(Out):
    created_record_id: int
    match: str = Field(description="linked, held, waiting, or not_checked when saved without ids")
    linked_sis_record_id: int | None
    hold_reason: str | None


class SelectorSearchIn(BaseModel):
    query: Annotated[Text, Field(min_length=1, max_length=100, description="beginnings of first/last names")]
    page: Annotated[int, Field(ge=1, le=10_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 25


class SelectorRowOut(Out):
    student_id: int
    first_name: str
    last_name: str
    origin: str
    grade: str | None
    school: str | None
    has_plan: bool


class SelectorPageOut(Out):
    rows: list[SelectorRowOut]
    page: int
    page_size: int
    has_more: bool


class PlanOut(Out):
    plan_id: int
    student_id: int
    school_year: str
    started: bool = Field(description="false when the student already had this year's plan")


class UnlinkedRowOut(Out):
    created_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None
    created_by: str | None
    created_at: datetime
    has_plan: bool
    status: str = Field(description="waiting, held or suggested")
    hold_reason: str | None
    suggested_sis_record_id: int | None


class UnlinkedPageOut(Out):
    rows: list[UnlinkedRowOut]
    page: int
    page_size: int
    total: int


class SisSummaryOut(Out):
    sis_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    birth_date: date | None
    grade: str | None
    school: str | None


class CandidateOut(Out):
    summary: SisSummaryOut
    score: float
    reasons: list[str]
    already_linked_created_record_id: int | None


class LinkIn(BaseModel):
    sis_record_id: RecordId


class LinkBySsidIn(BaseModel):
    ssid: Annotated[Text, Field(min_length=1, max_length=32)]


class LinkByOtherIdIn(BaseModel):
    other_id: Annotated[Text, Field(min_length=1, max_length=64)]


class LinkResultOut(Out):
    created_record_id: int
    sis_record_id: int
    audit_id: int
    plans_moved: int
    already_linked: bool


class DismissIn(BaseModel):
    sis_record_id: RecordId


class HeldRowOut(Out):
    created_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None
    reason: str
    held_since: datetime
    candidate_sis_record_id: int | None
    candidate_first_name: str | None
    candidate_last_name: str | None
    candidate_ssid_masked: str | None
    candidate_school: str | None
    candidate_grade: str | None


class LinkHistoryOut(Out):
    audit_id: int
    created_record_id: int
    sis_record_id: int
    method: str
    linked_by: str
    batch_id: int | None
    plans_moved: int
    linked_at: datetime


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: str
    redis: str
