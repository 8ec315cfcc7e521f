"""Request bodies of the JSON API, and the few answers that are not the staff functions' own dataclasses."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from admin.unlinked_table import Filter, Sort

# Postgres text cannot hold NUL; refusing it here keeps a typo from ever reaching the store
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ErrorOut(BaseModel):
    code: str = Field(description="a stable word, e.g. not_found, already_linked_elsewhere")
    message: str
    fields: list[str] = Field(
        default_factory=list,
        description="request fields that were not valid; for evidence_disagrees, the fields that disagree",
    )


class CallerOut(BaseModel):
    staff_id: int
    name: str
    role: str
    district_id: str


class DetailsIn(BaseModel):
    """Optional facts that tell namesakes apart; matching weighs each one given."""

    birth_date: Annotated[date | None, Field(description="YYYY-MM-DD, past, under 30 years ago")] = None
    grade: Annotated[Text | None, Field(max_length=16, description="PK, KG or 1 to 12 (01 to 12)")] = None
    school_id: Annotated[
        Text | None, Field(max_length=64, description="the SIS id of one of the district's schools")
    ] = None


class CreateStudentIn(DetailsIn):
    first_name: Annotated[Text, Field(min_length=1, max_length=100)]
    last_name: Annotated[Text, Field(min_length=1, max_length=100)]
    ssid: Annotated[Text | None, Field(max_length=32, description="the state's SSID, if known")] = None
    other_id: Annotated[Text | None, Field(max_length=64, description="the district's student number")] = None


class EditIdsIn(DetailsIn):
    """Ids as given (blank or absent clears them); birth date, grade and school are changed only
    when sent (null clears one), so a client that sends ids alone keeps them."""

    ssid: Annotated[Text | None, Field(max_length=32, description="the state's SSID; blank clears it")] = None
    other_id: Annotated[Text | None, Field(max_length=64, description="the district's student number")] = None


class SelectorSearchIn(BaseModel):
    query: Annotated[Text, Field(min_length=1, max_length=100, description="beginnings of first/last names")]
    page_size: Annotated[int, Field(ge=1, le=100)] = 25
    after: Annotated[Text | None, Field(max_length=300, description="`next_after` of the page before")] = None


class UnlinkedSearchIn(BaseModel):
    names: Annotated[Text, Field(min_length=1, max_length=100, description="beginnings of first/last names")]
    state: Filter = Filter.ALL
    sort: Sort = Sort.OLDEST
    after: Annotated[Text | None, Field(max_length=60)] = None
    before: Annotated[Text | None, Field(max_length=60)] = None
    page_size: Annotated[int, Field(ge=1, le=100)] = 50


class ConfirmMismatchIn(BaseModel):
    confirm_mismatch: Annotated[
        bool,
        Field(
            description="link even though fields disagree (answered 409 evidence_disagrees, with the"
            " disagreeing fields, without it); the link is audited as made against the evidence"
        ),
    ] = False


class LinkIn(ConfirmMismatchIn):
    sis_record_id: RecordId


class LinkBySsidIn(ConfirmMismatchIn):
    ssid: Annotated[Text, Field(min_length=1, max_length=32)]


class LinkByOtherIdIn(ConfirmMismatchIn):
    other_id: Annotated[Text, Field(min_length=1, max_length=64)]


class DismissIn(BaseModel):
    sis_record_id: RecordId


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: str
    redis: str
