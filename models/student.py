"""Student records of both origins in one table, so the Student Selector and the learning-plan
foreign key serve SIS and created records alike."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Origin, StudentStatus, created_at_column, text_enum


def partition_name(district_id: str) -> str:
    """The table holding a district's records once its first load has given it one of its own."""
    return "students_d_" + hashlib.md5(district_id.encode(), usedforsecurity=False).hexdigest()[:16]


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("district_id", "sis_source_id"),
        CheckConstraint("(origin = 'sis') = (sis_source_id IS NOT NULL)", name="sis_source_id_iff_sis"),
        CheckConstraint("(status = 'merged') = (merged_into_id IS NOT NULL)", name="merged_iff_merged_into"),
        CheckConstraint("status <> 'merged' OR origin = 'created'", name="only_created_merge"),
        CheckConstraint("status <> 'inactive' OR origin = 'sis'", name="only_sis_inactive"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
        ForeignKeyConstraint(
            ["merged_into_id", "district_id"],
            ["students.id", "students.district_id"],
            name="fk_students_merged_into_same_district",
        ),
        # SSID is a statewide id, but one child can be active in two districts' SIS at once
        # (dual enrolment); uniqueness is enforced where matching looks: one district.
        Index(
            "uq_students_active_sis_ssid",
            "district_id",
            "ssid",
            unique=True,
            postgresql_where=text("origin = 'sis' AND status = 'active' AND ssid IS NOT NULL"),
        ),
        Index("ix_students_district_other_id", "district_id", "other_id"),
        # name search and matching's name blocks (matching/name_search.py, gather.py: active SIS
        # records by exact keys) and the Student Selector (admin/selector.py: active records of both
        # origins, one page in name order read from the index, by surname or by given name)
        Index(
            "ix_students_selector_names",
            "district_id",
            "search_last",
            "search_first",
            "id",
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_students_selector_given",
            "district_id",
            "search_first",
            "search_last",
            "id",
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_students_unlinked",
            "district_id",
            "created_at",
            postgresql_where=text("origin = 'created' AND status = 'active'"),
        ),
        # one page of the unlinked table, newest first, read from the index alone (admin/unlinked_table.py)
        Index(
            "ix_students_unlinked_page",
            "district_id",
            "created_at",
            "id",
            postgresql_where=text("origin = 'created' AND status = 'active'"),
        ),
        # Link Student to ALE's states, each read in creation order from an index of its own
        Index(
            "ix_students_unlinked_no_id",
            "district_id",
            "created_at",
            "id",
            postgresql_where=text(
                "origin = 'created' AND status = 'active' AND ssid IS NULL AND other_id IS NULL"
            ),
        ),
        Index(
            "ix_students_unlinked_with_id",
            "district_id",
            "created_at",
            "id",
            postgresql_where=text(
                "origin = 'created' AND status = 'active' AND (ssid IS NOT NULL OR other_id IS NOT NULL)"
            ),
        ),
        # the names box of Link Student to ALE: names looked up among the unlinked records only
        Index(
            "ix_students_unlinked_names",
            "district_id",
            "search_last",
            "search_first",
            postgresql_where=text("origin = 'created' AND status = 'active'"),
        ),
        Index(
            "ix_students_unlinked_given",
            "district_id",
            "search_first",
            postgresql_where=text("origin = 'created' AND status = 'active'"),
        ),
        # one partition per district that has had a first load (worker/ingest/first_load.py);
        # records of any other district live in students_default (migration 0006)
        {"postgresql_partition_by": "LIST (district_id)"},
    )
    # the record's identity in the session is its id alone (ids come from one sequence)
    __mapper_args__ = {"primary_key": ["id"]}  # noqa: RUF012 (declarative reads it once)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # part of the primary key because the table is partitioned by district; other tables
    # reference (student, district) together, so no row can point at a student of another district
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    origin: Mapped[Origin] = mapped_column(text_enum(Origin, "origin"), nullable=False)
    status: Mapped[StudentStatus] = mapped_column(
        text_enum(StudentStatus, "student_status"), nullable=False, default=StudentStatus.ACTIVE
    )
    sis_source_id: Mapped[str | None] = mapped_column(Text)
    ssid: Mapped[str | None] = mapped_column(String(32))
    other_id: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    middle_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    birth_date: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(16))
    school_id: Mapped[str | None] = mapped_column(Text)  # orgs.csv sourcedId of the school
    # SIS only: digest of the fields as the SIS sent them, so an unchanged row is not rewritten
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # the batch that last wrote the record; no foreign key (a per-row check on every ingest
    # insert and update, for a value only shown to ops; batches are never deleted)
    last_batch_id: Mapped[int | None] = mapped_column(BigInteger)
    # set by a trigger when a learning plan is first attached; never cleared
    had_learning_plan: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    # name-search blocking keys (matching/core/search_keys.py), kept by Postgres: a trigger computes
    # them from the names on every insert and every name change that does not give them; the
    # ingest gives them, computed with the same expression in its parallel statements
    # (migration 0006). C collation so a prefix is an index range (compound surnames).
    search_last: Mapped[str | None] = mapped_column(
        Text(collation="C"), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    search_first: Mapped[str | None] = mapped_column(
        Text(collation="C"), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
