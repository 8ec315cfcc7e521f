"""Why a link, a dismissal or a delete must not happen: one exception with a stable code.

The merge function and the staff-linking service raise it; `admin/` turns each code into an
HTTP status and a sentence for staff. The message carries ids only, never a name or an id value.
"""

from __future__ import annotations

import enum

from config.redaction import SafeMessage


class RefusalCode(enum.StrEnum):
    """A stable word for each reason; the admin endpoint's answers use the same words."""

    CREATED_RECORD_NOT_FOUND = "created_record_not_found"  # not an (unlinked) record of the district
    SIS_RECORD_NOT_FOUND = "sis_record_not_found"  # no (active) SIS record of the district fits
    ALREADY_LINKED_ELSEWHERE = "already_linked_elsewhere"  # the created record was merged into another
    SIS_RECORD_TAKEN = "sis_record_taken"  # the SIS record already has another created record
    NOT_ACTIVE = "not_active"  # the created record is neither active nor merged
    SIS_RECORD_INACTIVE = "sis_record_inactive"
    IDS_CONTRADICT = "ids_contradict"  # the other id on the two records differs
    AMBIGUOUS_OTHER_ID = "ambiguous_other_id"  # several SIS records of the district have it
    HAS_LEARNING_PLAN = "has_learning_plan"  # a created record that ever had a plan is not deleted
    EVIDENCE_DISAGREES = "evidence_disagrees"  # a staff link the fields speak against, not confirmed twice


class Refusal(SafeMessage, Exception):
    """An action that must not happen; `code` says why."""

    def __init__(
        self, code: RefusalCode, created_record_id: int | None = None, fields: tuple[str, ...] = ()
    ) -> None:
        self.code = code
        self.created_record_id = created_record_id
        self.fields = fields  # the fields a refusal is about, by name ("given name"), never their values
        super().__init__(f"refused: {code} (created record {created_record_id})")
