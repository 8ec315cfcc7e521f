"""Declarative base, naming convention and the product's enumerations (stored as checked text)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def text_enum(enum_cls: type[enum.Enum], name: str) -> Any:
    """An enum stored as text with a CHECK constraint: readable in psql, cheap to extend."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Origin(enum.StrEnum):
    SIS = "sis"
    CREATED = "created"


class StudentStatus(enum.StrEnum):
    ACTIVE = "active"  # SIS: in the latest data; created: waiting to be linked
    INACTIVE = "inactive"  # SIS only: no longer sent by the SIS (never deleted)
    MERGED = "merged"  # created only: permanently linked into an SIS record


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class BatchStatus(enum.StrEnum):
    RECEIVED = "received"
    INGESTING = "ingesting"
    APPLIED = "applied"
    HELD = "held"
    REJECTED = "rejected"
    FAILED = "failed"


class BatchKind(enum.StrEnum):
    BULK = "bulk"
    DELTA = "delta"


class StaffRole(enum.StrEnum):
    REGISTRAR = "registrar"
    SECRETARY = "secretary"
    TEACHER = "teacher"


class AuditAction(enum.StrEnum):
    CREATE = "create"
    EDIT_IDS = "edit_ids"
    LINK = "link"
    DELETE = "delete"
    DISMISS_SUGGESTION = "dismiss_suggestion"
    INITIATE_PLAN = "initiate_plan"
    BATCH_APPROVE = "batch_approve"
    BATCH_REJECT = "batch_reject"
