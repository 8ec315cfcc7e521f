"""What staff are told when an action is refused: the HTTP status, the stable code and the sentence.

Matching's refusals carry a code only; this table gives each its answer, for the JSON API and the
pages alike. `Refused` is also what the endpoint's own checks (a blank name, a malformed SSID) raise.
"""

from __future__ import annotations

from typing import NamedTuple

from config.redaction import SafeMessage
from matching.refusals import Refusal, RefusalCode


class Refused(SafeMessage, Exception):
    """A staff action that cannot be done; `status` is the HTTP answer, `code` a stable word."""

    def __init__(self, status: int, code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields  # the fields the answer is about (the API's `fields`)


class Answer(NamedTuple):
    status: int
    code: str  # the word API clients see: both "not found" refusals are plain not_found
    message: str


ANSWERS: dict[RefusalCode, Answer] = {
    RefusalCode.CREATED_RECORD_NOT_FOUND: Answer(
        404,
        "not_found",
        "This record is no longer waiting to be linked: it was linked or deleted,"
        " or it is not in your district.",
    ),
    RefusalCode.SIS_RECORD_NOT_FOUND: Answer(
        404, "not_found", "No active SIS student of your district has that id. Check it, or search by name."
    ),
    RefusalCode.ALREADY_LINKED_ELSEWHERE: Answer(
        409, "already_linked_elsewhere", "This record was already linked to another SIS student."
    ),
    RefusalCode.SIS_RECORD_TAKEN: Answer(
        409,
        "sis_record_taken",
        "That SIS student already has a created record linked to them."
        " Check that you chose the right student.",
    ),
    RefusalCode.NOT_ACTIVE: Answer(409, "not_active", "This record is already linked or no longer exists."),
    RefusalCode.SIS_RECORD_INACTIVE: Answer(
        409, "sis_record_inactive", "That SIS student is no longer active in the SIS."
    ),
    RefusalCode.IDS_CONTRADICT: Answer(
        422,
        "ids_contradict",
        "The two records carry different SSIDs or Other IDs, so they cannot be linked. Correct the id first.",
    ),
    RefusalCode.AMBIGUOUS_OTHER_ID: Answer(
        409,
        "ambiguous_other_id",
        "Several SIS students of your district have this Other ID. Search by name instead.",
    ),
    RefusalCode.EVIDENCE_DISAGREES: Answer(
        409,
        "evidence_disagrees",
        "The two records disagree ({fields}). Check that they are the same child;"
        " to link them all the same, confirm the link against the evidence.",
    ),
    RefusalCode.HAS_LEARNING_PLAN: Answer(
        409,
        "has_learning_plan",
        "A learning plan was started on this record, so it cannot be deleted."
        " Link it to the SIS student instead.",
    ),
}


def refused(error: Refused | Refusal) -> Refused:
    """The answer to give: matching's refusal through the table, the endpoint's own as it is."""
    if isinstance(error, Refused):
        return error
    status, code, message = ANSWERS[error.code]
    return Refused(status, code, message.format(fields=", ".join(error.fields)), error.fields)


def not_found(what: str = "student") -> Refused:
    return Refused(404, "not_found", f"There is no such {what} in your district.")
