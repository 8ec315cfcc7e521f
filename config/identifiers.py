"""What an SSID and an Other ID may be: the one definition the ingest (in SQL) and staff input
(in Python) both apply, so every id the SIS sends staff can type, and every id staff cannot type
the ingest quarantines (docs/ingest.md, "Identifier rules").

- Both are trimmed of spaces, tabs, line breaks and no-break spaces at either end; empty is none.
- An SSID matches the state's SSID_PATTERN as a whole (ASCII classes: `\\d` is 0-9 only), at most
  32 characters.
- An Other ID is the district's own student number, in whatever shape its SIS uses (spaces and
  punctuation included): 1 to 64 characters, none a control character.

Python's `re` and Postgres's regular expressions read these patterns alike: each is matched as
a whole (`fullmatch`; `^(?:...)$` in SQL).
"""

from __future__ import annotations

import re

SSID_MAX = 32
OTHER_ID_MAX = 64
OTHER_ID_PATTERN = r"[^\x00-\x1f\x7f-\x9f]{1,64}"
# the characters trimmed from both ends, as a Python str.strip argument and a Postgres E'' string
TRIMMED = " \t\r\n\u00a0"
TRIMMED_SQL = r"E' \t\r\n\u00a0'"


def trimmed(value: str | None) -> str | None:
    """The value without surrounding blanks; None when nothing is left."""
    text = (value or "").strip(TRIMMED)
    return text or None


def ssid_problem(ssid: str, pattern: str) -> str | None:
    """None when SSID (trimmed) is one, else the reason code the ingest quarantines it with."""
    if not re.fullmatch(pattern, ssid, flags=re.ASCII):
        return "ssid_pattern"
    if len(ssid) > SSID_MAX:
        return "value_too_long"
    return None


def other_id_problem(other_id: str) -> str | None:
    """None when OTHER_ID (trimmed) is one, else the reason code the ingest quarantines it with."""
    if len(other_id) > OTHER_ID_MAX:
        return "value_too_long"
    if not re.fullmatch(OTHER_ID_PATTERN, other_id):
        return "other_id_format"
    return None


def sql_trimmed(expression: str) -> str:
    """SQL for the trimmed value of EXPRESSION, NULL when nothing is left (as `trimmed`)."""
    return f"nullif(btrim({expression}, {TRIMMED_SQL}), '')"


def sql_fullmatch(expression: str, pattern_sql: str) -> str:
    """SQL that is true when EXPRESSION matches the pattern PATTERN_SQL (a parameter or literal) whole."""
    return f"({expression} ~ ('^(?:' || {pattern_sql} || ')$'))"
