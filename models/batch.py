"""The batch ledger (one row per SIS delivery) and the rows quarantined from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BatchKind, BatchStatus, created_at_column, text_enum


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        # a delivery is identified by its content: the same bytes again are a no-op (a replay of an
        # archived delivery is the one deliberate second batch of the same content)
        Index(
            "uq_batches_district_id_checksum",
            "district_id",
            "checksum",
            unique=True,
            postgresql_where=text("replay_of IS NULL"),
        ),
        Index("ix_batches_district_id_received_at", "district_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    source_name: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str] = mapped_column(Text, nullable=False)  # where the delivery was read from
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of the content
    kind: Mapped[BatchKind | None] = mapped_column(text_enum(BatchKind, "batch_kind"))
    status: Mapped[BatchStatus] = mapped_column(
        text_enum(BatchStatus, "batch_status"), nullable=False, default=BatchStatus.RECEIVED
    )
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    ignored: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # non-student rows
    hold_reason: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)  # ops user who approved or rejected a hold
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # where the delivery came from: source kind, file or API read (watermark, pages, counts)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    archive_path: Mapped[str | None] = mapped_column(Text)  # the delivery as received, compressed
    replay_of: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))


class QuarantinedRow(Base):
    __tablename__ = "quarantined_rows"
    __table_args__ = (Index("ix_quarantined_rows_batch_id_row_number", "batch_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1 = header line
    reason_code: Mapped[str] = mapped_column(String(48), nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)  # names the column, never the value
    sis_source_id: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the row as sent, so nothing is lost
