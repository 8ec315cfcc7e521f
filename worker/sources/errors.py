"""Why a delivery is refused whole."""

from __future__ import annotations

from config.redaction import SafeMessage


class DeliveryRejected(SafeMessage, Exception):
    """A structurally broken delivery: nothing of it is applied. The message names files and columns only."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SourceUnavailable(SafeMessage, Exception):
    """A source could not be read this time (unreachable, refused, busy, changing under the read).
    Nothing is registered; the next pull tries again. The message names URLs, files and counts only."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
