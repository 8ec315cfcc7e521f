"""Sending one plain-text e-mail through the configured SMTP server."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from config.settings import get_settings

SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def mail_configured() -> bool:
    return bool(get_settings().smtp_host)


def send_mail(mail: Mail) -> None:
    """Hand MAIL to the SMTP server; raises on any refusal, so the caller's ledger row rolls back."""
    settings = get_settings()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, mail.to, mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)
