"""The product's words, defined once: how a link was made, why a record is held, what a
suggestion proposes, and the topics of the events a change records.

`models/` stores these as checked text columns; the core decides in them.
"""

from __future__ import annotations

import enum


class LinkMethod(enum.StrEnum):
    """How a created record found its SIS record."""

    SSID = "ssid"
    OTHER_ID = "other_id"
    NAME_SEARCH = "name_search"
    MANUAL_SSID = "manual_ssid"
    MANUAL_OTHER_ID = "manual_other_id"


class HoldReason(enum.StrEnum):
    """Why an identifier match waits for a person."""

    IDS_DISAGREE = "ids_disagree"
    NAME_MISMATCH = "name_mismatch"
    AMBIGUOUS_OTHER_ID = "ambiguous_other_id"


class SuggestionKind(enum.StrEnum):
    """A possible link shown to staff, never applied by itself."""

    POSSIBLE_SSID_TYPO = "possible_ssid_typo"  # an SSID one or two mistyped digits from a record's
    POSSIBLE_SIS_MATCH = "possible_sis_match"  # a record without ids, and one strong candidate by name


class Topic(enum.StrEnum):
    """Events recorded in the outbox with the change that causes them; payloads carry ids only."""

    BATCH_APPLIED = "batch_applied"  # batch_id: match the batch's district
    RECORD_LINKED = "record_linked"  # created_record_id, sis_record_id, audit_id
