"""What ale-sync remembers of a source between pulls: the API watermark, a full read asked for,
and the files of an SFTP folder already seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column


class SourceState(Base):
    __tablename__ = "source_states"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    source_name: Mapped[str] = mapped_column(Text, primary_key=True)
    # the newest dateLastModified of the data an applied batch carried (the server's clock, not ours);
    # moved only in the transaction that applies that batch, and only forward
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    watermark_batch_id: Mapped[int | None] = mapped_column(BigInteger)
    # `ale-sync resync --full`: the next read is a bulk read; cleared when a bulk batch is applied
    full_read_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)  # names files, URLs and counts; never a value
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class SeenFile(Base):
    """A remote file already downloaded (by name, size and time): not downloaded again."""

    __tablename__ = "source_seen_files"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    source_name: Mapped[str] = mapped_column(Text, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    modified: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # mtime, seconds
    checksum: Mapped[str] = mapped_column(Text, nullable=False)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_at: Mapped[datetime] = created_at_column()
