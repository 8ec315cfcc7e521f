"""Keyset cursors for the staff lists: where a page ended, as a moment and a record id.

Written `<microseconds since 1970>-<id>`, so a cursor in a URL carries no student data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin.errors import Refused

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_text(moment: datetime, record_id: int) -> str:
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{record_id}"


def parse_cursor(value: str) -> tuple[datetime, int]:
    micros, _, record_id = value.partition("-")
    if not (micros.isdigit() and record_id.isdigit() and len(micros) < 20 and len(record_id) < 20):
        raise Refused(422, "invalid_cursor", "That page is no longer available. Start from the first page.")
    return _EPOCH + timedelta(microseconds=int(micros)), int(record_id)
