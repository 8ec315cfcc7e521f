"""Migrations round-trip, match the models, and the database itself holds the invariants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from models import Base, District, LearningPlan, Origin, Student, StudentStatus
from models.migrate import alembic_config, current_heads, downgrade, upgrade


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    url = make_url(database_url)
    name = f"ale_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_engine: Engine) -> None:
    heads = head_revisions()
    assert len(heads) == 1, "migrations must form one line"
    upgrade(empty_engine)
    assert current_heads(empty_engine) == heads
    assert "students" in inspect(empty_engine).get_table_names()
    downgrade(empty_engine, "base")
    assert current_heads(empty_engine) == set()
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert current_heads(empty_engine) == heads


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _district(session: Session, code: str) -> None:
    session.add(District(id=code, name=f"District {code}"))
    session.flush()


def _created(session: Session, district: str, **fields: object) -> Student:
    record = Student(district_id=district, origin=Origin.CREATED, first_name="A", last_name="B", **fields)
    session.add(record)
    session.flush()
    return record


def _sis(session: Session, district: str, source_id: str, **fields: object) -> Student:
    record = Student(
        district_id=district,
        origin=Origin.SIS,
        sis_source_id=source_id,
        first_name="A",
        last_name="B",
        **fields,
    )
    session.add(record)
    session.flush()
    return record


def _plan(session: Session, district: str, student: Student) -> LearningPlan:
    plan = LearningPlan(
        district_id=district,
        student_id=student.id,
        started_on_student_id=student.id,
        school_year="2026-27",
        start_date=date(2026, 9, 1),
    )
    session.add(plan)
    session.flush()
    return plan


def test_a_learning_plan_cannot_belong_to_a_student_of_another_district(db_session: Session) -> None:
    _district(db_session, "17001")
    _district(db_session, "27010")
    student = _created(db_session, "17001")
    with pytest.raises(IntegrityError):
        _plan(db_session, "27010", student)


def test_a_record_that_carried_a_plan_cannot_be_deleted_even_after_the_plan_left(db_session: Session) -> None:
    _district(db_session, "17001")
    created = _created(db_session, "17001")
    sis = _sis(db_session, "17001", "stu-1")
    plan = _plan(db_session, "17001", created)
    plan.student_id = sis.id
    db_session.flush()
    db_session.refresh(created)
    assert created.had_learning_plan
    with pytest.raises(DBAPIError, match="cannot be deleted"):
        db_session.execute(text("DELETE FROM students WHERE id = :id"), {"id": created.id})


def test_an_unused_created_record_can_be_deleted(db_session: Session) -> None:
    _district(db_session, "17001")
    created = _created(db_session, "17001")
    db_session.execute(text("DELETE FROM students WHERE id = :id"), {"id": created.id})
    assert db_session.get(Student, created.id, populate_existing=True) is None


def test_sis_records_are_never_deleted(db_session: Session) -> None:
    _district(db_session, "17001")
    sis = _sis(db_session, "17001", "stu-1")
    with pytest.raises(DBAPIError, match="never deleted"):
        db_session.execute(text("DELETE FROM students WHERE id = :id"), {"id": sis.id})


def test_a_merge_is_permanent_and_stays_in_its_district(db_session: Session) -> None:
    _district(db_session, "17001")
    _district(db_session, "27010")
    created = _created(db_session, "17001")
    elsewhere = _sis(db_session, "27010", "stu-9")
    with pytest.raises(IntegrityError):
        db_session.execute(
            text("UPDATE students SET status='merged', merged_into_id=:s WHERE id=:c"),
            {"s": elsewhere.id, "c": created.id},
        )


def test_a_merged_record_cannot_be_unmerged(db_session: Session) -> None:
    _district(db_session, "17001")
    created = _created(db_session, "17001")
    sis = _sis(db_session, "17001", "stu-1")
    created.status, created.merged_into_id = StudentStatus.MERGED, sis.id
    db_session.flush()
    with pytest.raises(DBAPIError, match="permanent"):
        db_session.execute(
            text("UPDATE students SET status='active', merged_into_id=NULL WHERE id=:c"), {"c": created.id}
        )


def test_ssid_is_unique_among_active_sis_records_of_a_district(db_session: Session) -> None:
    _district(db_session, "17001")
    _district(db_session, "27010")
    _sis(db_session, "17001", "stu-1", ssid="0012345678")
    _sis(db_session, "17001", "stu-2", ssid="0012345678", status=StudentStatus.INACTIVE)
    _sis(db_session, "27010", "stu-1", ssid="0012345678")  # dual enrolment in another district
    _created(db_session, "17001", ssid="0012345678")
    with pytest.raises(IntegrityError):
        _sis(db_session, "17001", "stu-3", ssid="0012345678")


def test_sis_source_id_is_unique_per_district(db_session: Session) -> None:
    _district(db_session, "17001")
    _sis(db_session, "17001", "stu-1")
    with pytest.raises(IntegrityError):
        _sis(db_session, "17001", "stu-1")


def test_enumerations_are_checked_by_the_database(db_session: Session) -> None:
    _district(db_session, "17001")
    with pytest.raises(IntegrityError):
        db_session.execute(
            text(
                "INSERT INTO students (district_id, origin, status, first_name, last_name)"
                " VALUES ('17001', 'created', 'archived', 'A', 'B')"
            )
        )
