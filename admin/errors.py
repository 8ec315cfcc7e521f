"""Refusals the staff functions raise; the API and the pages turn them into 404/409/422 answers."""

from __future__ import annotations

from config.redaction import SafeMessage


class Refused(SafeMessage, Exception):
    """A staff action that cannot be done; `status` is the HTTP answer, `code` a stable word."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str = "student") -> Refused:
    return Refused(404, "not_found", f"no such {what} in your district")
