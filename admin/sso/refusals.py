"""Why a district sign-in was refused: a reason for the log, a message code for the login page."""

from __future__ import annotations

# reason -> the login page's message code (admin/pages/login.py holds the texts)
MESSAGE_FOR_REASON = {
    "not_mapped": "not_mapped",
    "revoked": "account_revoked",
    "provider_unreachable": "provider_unreachable",
    "provider_removed": "use_token",
}


class SignInRefused(Exception):
    """The sign-in stops here; `reason` is a constant word, logged as `admin_access_denied`."""

    def __init__(self, reason: str, staff_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.staff_id = staff_id

    @property
    def message_code(self) -> str:
        return MESSAGE_FOR_REASON.get(self.reason, "sign_in_failed")
