"""The Student Learning Plan, minimal: the plan editor is not ours, only who it belongs to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, ForeignKeyConstraint, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PlanStatus, created_at_column, text_enum


class LearningPlan(Base):
    __tablename__ = "learning_plans"
    __table_args__ = (
        # a plan can only ever belong to a student of its own district
        ForeignKeyConstraint(
            ["student_id", "district_id"],
            ["students.id", "students.district_id"],
            name="fk_learning_plans_student_same_district",
        ),
        Index("ix_learning_plans_student_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    student_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # the record the plan was started on (a created record, before any merge moved it)
    started_on_student_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    school_year: Mapped[str] = mapped_column(String(9), nullable=False)  # e.g. 2026-27
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[PlanStatus] = mapped_column(
        text_enum(PlanStatus, "plan_status"), nullable=False, default=PlanStatus.DRAFT
    )
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = created_at_column()
