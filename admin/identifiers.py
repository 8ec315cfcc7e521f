"""Validating what staff type as SSID and Other ID (by config/identifiers.py's rules, the ones the
ingest applies), and masking an SSID for display."""

from __future__ import annotations

import re

from admin.errors import Refused
from config.identifiers import OTHER_ID_MAX, other_id_problem, ssid_problem, trimmed
from config.settings import get_settings
from matching.staff_links import EnteredId

DIGITS = re.compile(r"^\^?\[0-9\]\{(\d+)\}\$?$")


def ssid_format() -> str:
    """The state's SSID format in words, for the sentences staff read (e.g. "10 digits")."""
    digits = DIGITS.fullmatch(get_settings().ssid_pattern)
    return f"{digits[1]} digits" if digits else "the state's format"


def clean_ssid(value: str | None) -> str | None:
    """An SSID as entered, trimmed; None when blank. Refused unless it fits the state's pattern."""
    text = trimmed(value)
    if text is None:
        return None
    if ssid_problem(text, get_settings().ssid_pattern):
        raise Refused(
            422, "invalid_ssid", f"Check the SSID: it is the state's student number, {ssid_format()}."
        )
    return text


def clean_other_id(value: str | None) -> str | None:
    """An Other ID as entered, trimmed; None when blank. Refused when the SIS could not send it."""
    text = trimmed(value)
    if text is None:
        return None
    if other_id_problem(text):
        raise Refused(
            422,
            "invalid_other_id",
            f"Check the Other ID: it is the district's student number, "
            f"up to {OTHER_ID_MAX} characters on one line.",
        )
    return text


def clean_entered_id(kind: EnteredId, value: str | None) -> str:
    """An SSID or Other ID typed to link with: checked as above, and required."""
    cleaned = clean_ssid(value) if kind is EnteredId.SSID else clean_other_id(value)
    if cleaned is None:
        what = "SSID" if kind is EnteredId.SSID else "Other ID"
        raise Refused(422, f"{kind}_required", f"Enter the {what} to link with.")
    return cleaned


def mask_ssid(ssid: str | None) -> str | None:
    """Only the last four digits are shown, e.g. ******7890."""
    if not ssid:
        return None
    return "*" * max(len(ssid) - 4, 0) + ssid[-4:]
