"""The ledger of e-mails sent: one row per digest or alert, keyed so that each goes out once.

A sender inserts the row and sends in one transaction; a retry, a second worker or a restarted
beat finds the key taken and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column


class SentNotification(Base):
    __tablename__ = "sent_notifications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # digest, batch_held, no_delivery ...
    # what makes it one notification, e.g. "digest:17001:2026-05-04:staff:12" or "batch_held:42"
    key: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    recipient: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime] = created_at_column()
