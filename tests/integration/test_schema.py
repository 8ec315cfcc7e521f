"""Migrations round-trip, match the models, and the database itself holds the invariants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from models import Base, District, LearningPlan, Origin, Student, StudentStatus
from models.migrate import alembic_config, current_heads, downgrade, include_name, include_object, upgrade
from models.student import partition_name


def head_revisions() -> set[str]:
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
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_name": include_name, "include_object": include_object},
        )
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


def test_partitioning_students_keeps_every_record_id_and_link_both_ways(empty_engine: Engine) -> None:
    """0006 moves records into per-district partitions (ids, merges and plans intact); new ids
    continue after the old ones; going back to 0005 restores one table with the same rows."""
    upgrade(empty_engine, "0005")
    with empty_engine.begin() as connection:
        connection.execute(text("INSERT INTO districts (id, name) VALUES ('d1', 'One'), ('d2', 'Two')"))
        connection.execute(
            text(
                "INSERT INTO students (id, district_id, origin, status, sis_source_id, first_name, last_name)"
                " OVERRIDING SYSTEM VALUE VALUES (10, 'd1', 'sis', 'active', 's-10', 'Ana', 'Nguyễn'),"
                " (11, 'd2', 'sis', 'active', 's-11', 'Bo', 'Lee')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO students (id, district_id, origin, status, first_name, last_name,"
                " merged_into_id) OVERRIDING SYSTEM VALUE"
                " VALUES (12, 'd1', 'created', 'merged', 'Ana', 'Nguyen', 10)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO learning_plans (district_id, student_id, started_on_student_id, school_year,"
                " start_date, status) VALUES ('d1', 10, 12, '2026-27', '2026-09-01', 'active')"
            )
        )
    before = _records(empty_engine)

    upgrade(empty_engine)
    assert _records(empty_engine) == before
    with empty_engine.begin() as connection:
        homes = dict(
            connection.execute(text("SELECT id, tableoid::regclass::text FROM students")).tuples().all()
        )
        added = connection.execute(
            text(
                "INSERT INTO students (district_id, origin, status, first_name, last_name)"
                " VALUES ('d2', 'created', 'active', 'C', 'D') RETURNING id"
            )
        ).scalar_one()
        connection.execute(text("DELETE FROM students WHERE id = :id"), {"id": added})
    assert homes == {10: partition_name("d1"), 12: partition_name("d1"), 11: partition_name("d2")}
    assert added > 12
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:  # links still checked
        connection.execute(text("UPDATE learning_plans SET student_id = 999"))

    downgrade(empty_engine, "0005")
    assert _records(empty_engine) == before
    with empty_engine.connect() as connection:
        kind = connection.execute(
            text("SELECT relkind FROM pg_class WHERE relname = 'students'")
        ).scalar_one()
    assert kind == "r"


def _records(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT s.id, s.district_id, s.origin, s.status, s.merged_into_id, s.search_last,"
                    " s.had_learning_plan, p.student_id FROM students s"
                    " LEFT JOIN learning_plans p ON p.student_id = s.id AND p.district_id = s.district_id"
                    " ORDER BY s.id"
                )
            ).tuples()
        )
