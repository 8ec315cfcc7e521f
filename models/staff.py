"""Staff accounts (per-district, one role; a hashed API token, a district sign-in identity, or both)
and the audit log of their actions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import AuditAction, Base, StaffRole, created_at_column, text_enum


def new_staff_token() -> str:
    """A fresh API token, shown to its owner once; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_staff_token(token: str) -> str:
    # tokens carry 256 random bits, so a plain SHA-256 (no salt, no stretching) is enough
    # and lets a request find its staff row by an indexed equality lookup
    return hashlib.sha256(token.encode()).hexdigest()


class Staff(Base):
    """One staff member of one district. An account made by `ale-sync staff add` has an API token;
    one made at its first district sign-in is keyed by the provider's issuer and subject."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("district_id", "issuer", "subject"),
        CheckConstraint("(issuer IS NULL) = (subject IS NULL)", name="identity_whole"),
        CheckConstraint("token_hash IS NOT NULL OR subject IS NOT NULL", name="can_sign_in"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[StaffRole] = mapped_column(text_enum(StaffRole, "staff_role"), nullable=False)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 hex
    issuer: Mapped[str | None] = mapped_column(Text)  # the district provider's issuer URL
    subject: Mapped[str | None] = mapped_column(Text)  # the provider's stable id for the person
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(Text)  # registrars and secretaries get the daily digest here
    digest_opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what to which record, and when. Keeps ids only, and survives a record's delete."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("actor_kind IN ('staff', 'system', 'ops')", name="actor_kind_known"),
        Index("ix_audit_log_district_id_at", "district_id", "at"),
        Index("ix_audit_log_student_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    at: Mapped[datetime] = created_at_column()
    actor_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[AuditAction] = mapped_column(text_enum(AuditAction, "audit_action"), nullable=False)
    student_id: Mapped[int | None] = mapped_column(BigInteger)  # no FK: a deleted record keeps its trail
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
