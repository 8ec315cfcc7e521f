"""The tenant, and the schools its SIS sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from config.settings import DEFAULT_TIMEZONE
from models.base import Base, created_at_column


class District(Base):
    __tablename__ = "districts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the state's district code
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # an IANA zone name; the district's local dates and times (pauses, digests) are read in it
    timezone: Mapped[str] = mapped_column(Text, nullable=False, server_default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime] = created_at_column()
    # where alerts about this district's deliveries go (held, rejected, failed, none for days)
    ops_email: Mapped[str | None] = mapped_column(Text)


class School(Base):
    __tablename__ = "schools"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    sis_source_id: Mapped[str] = mapped_column(Text, primary_key=True)  # orgs.csv sourcedId
    name: Mapped[str] = mapped_column(Text, nullable=False)
    org_type: Mapped[str] = mapped_column(String(32), nullable=False, default="school")
