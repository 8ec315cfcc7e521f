"""Validating what staff type as SSID and Other ID, and masking an SSID for display."""

from __future__ import annotations

import re

from admin.errors import Refused
from config.settings import get_settings
from matching.staff_links import EnteredId

OTHER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def clean_ssid(value: str | None) -> str | None:
    """An SSID as entered, trimmed; None when blank. Refused unless it fits the state's pattern."""
    text = (value or "").strip()
    if not text:
        return None
    if not get_settings().ssid_regex().fullmatch(text):
        raise Refused(422, "invalid_ssid", "the SSID does not have the state's format")
    return text


def clean_other_id(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not OTHER_ID.fullmatch(text):
        raise Refused(422, "invalid_other_id", "the Other ID may hold letters, digits, '.', '_' and '-'")
    return text


def clean_entered_id(kind: EnteredId, value: str | None) -> str:
    """An SSID or Other ID typed to link with: checked as above, and required."""
    cleaned = clean_ssid(value) if kind is EnteredId.SSID else clean_other_id(value)
    if cleaned is None:
        raise Refused(422, f"{kind}_required", "enter the id to link with")
    return cleaned


def mask_ssid(ssid: str | None) -> str | None:
    """Only the last four digits are shown, e.g. ******7890."""
    if not ssid:
        return None
    return "*" * max(len(ssid) - 4, 0) + ssid[-4:]
