"""What matching and staff decided: link audit, holds, suggestions and dismissed suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from matching.core.vocabulary import HoldReason, LinkMethod, SuggestionKind
from models.base import Base, created_at_column, text_enum


def _same_district_fk(column: str, name: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint([column, "district_id"], ["students.id", "students.district_id"], name=name)


class LinkAudit(Base):
    """One row per link, ever. The unique created record makes a second merge impossible."""

    __tablename__ = "link_audit"
    __table_args__ = (
        UniqueConstraint("created_record_id"),
        _same_district_fk("created_record_id", "fk_link_audit_created_same_district"),
        _same_district_fk("sis_record_id", "fk_link_audit_sis_same_district"),
        CheckConstraint("(actor_kind = 'staff') = (actor_staff_id IS NOT NULL)", name="staff_actor_named"),
        CheckConstraint("actor_kind IN ('system', 'staff')", name="actor_kind_known"),
        Index("ix_link_audit_sis_record_id", "sis_record_id"),
        # "Recently linked": a district's links newest first (admin/recent_links.py)
        Index("ix_link_audit_district_linked_at", "district_id", "linked_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    created_record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sis_record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    method: Mapped[LinkMethod] = mapped_column(text_enum(LinkMethod, "link_method"), nullable=False)
    actor_kind: Mapped[str] = mapped_column(nullable=False)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    plans_moved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # a staff link confirmed against the evidence: {"fields": [...], "rule": ..., "weight": ...}; else NULL
    against_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    linked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class HoldRow(Base):
    """A created record whose identifier match needs a person; one current hold per record."""

    __tablename__ = "holds"
    __table_args__ = (
        _same_district_fk("created_record_id", "fk_holds_created_same_district"),
        _same_district_fk("candidate_sis_record_id", "fk_holds_candidate_same_district"),
        Index("ix_holds_district_id", "district_id"),
    )

    created_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    reason: Mapped[HoldReason] = mapped_column(text_enum(HoldReason, "hold_reason"), nullable=False)
    candidate_sis_record_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # ids of all candidates, no PII
    first_held_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class SuggestionRow(Base):
    """A possible link shown to staff, never applied automatically."""

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("created_record_id", "sis_record_id", "kind"),
        _same_district_fk("created_record_id", "fk_suggestions_created_same_district"),
        _same_district_fk("sis_record_id", "fk_suggestions_sis_same_district"),
        Index("ix_suggestions_district_id", "district_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    created_record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sis_record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[SuggestionKind] = mapped_column(text_enum(SuggestionKind, "suggestion_kind"), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class DismissedSuggestion(Base):
    """Staff said "not this student": the pair is never suggested again."""

    __tablename__ = "dismissed_suggestions"
    __table_args__ = (
        _same_district_fk("created_record_id", "fk_dismissed_created_same_district"),
        _same_district_fk("sis_record_id", "fk_dismissed_sis_same_district"),
    )

    created_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sis_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    dismissed_at: Mapped[datetime] = created_at_column()
