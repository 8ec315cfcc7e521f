"""`ale-sync demo`: the main job end to end on an invented district, printed for a person."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import District, LearningPlan, Origin, Student, StudentStatus
from models.db import get_engine, transaction
from models.migrate import upgrade
from worker.sample_roster import CREATED_RECORDS, DEMO_DISTRICT, DEMO_DISTRICT_NAME, FIRST_BATCH


def reset_demo_district(session: Session) -> None:
    """Start from a clean demo district so the demo can run any number of times."""
    from models import (
        AuditEntry,
        Batch,
        DismissedSuggestion,
        Hold,
        LinkAudit,
        OutboxEvent,
        QuarantinedRow,
        School,
        Staff,
        Suggestion,
    )

    for model in (LinkAudit, Hold, Suggestion, DismissedSuggestion, LearningPlan, AuditEntry, OutboxEvent):
        session.execute(delete(model).where(model.district_id == DEMO_DISTRICT))
    session.execute(
        Student.__table__.update().where(Student.district_id == DEMO_DISTRICT).values(last_batch_id=None)
    )
    session.execute(delete(QuarantinedRow).where(QuarantinedRow.district_id == DEMO_DISTRICT))
    session.execute(delete(Batch).where(Batch.district_id == DEMO_DISTRICT))
    # merged and planned records are protected by a trigger; this names the one district wiped
    session.execute(select(func.set_config("ale.purge_district", DEMO_DISTRICT, True)))
    session.execute(delete(Student).where(Student.district_id == DEMO_DISTRICT))
    for model in (Staff, School):
        session.execute(delete(model).where(model.district_id == DEMO_DISTRICT))
    session.execute(delete(District).where(District.id == DEMO_DISTRICT))


def load_first_roster(session: Session) -> int:
    session.add(District(id=DEMO_DISTRICT, name=DEMO_DISTRICT_NAME))
    session.flush()
    count = 0
    for sid, ssid, other, given, family, middle, grade, birth in FIRST_BATCH:
        if sid.startswith("teach"):
            continue
        session.add(
            Student(
                district_id=DEMO_DISTRICT,
                origin=Origin.SIS,
                sis_source_id=sid,
                ssid=ssid,
                other_id=other,
                first_name=given,
                last_name=family,
                middle_name=middle or None,
                grade=grade,
                birth_date=date.fromisoformat(birth),
                school_id="sch-1",
            )
        )
        count += 1
    return count


def create_records(session: Session) -> None:
    for seed in CREATED_RECORDS:
        record = Student(
            district_id=DEMO_DISTRICT,
            origin=Origin.CREATED,
            first_name=seed.first_name,
            last_name=seed.last_name,
            ssid=seed.ssid,
            other_id=seed.other_id,
        )
        session.add(record)
        session.flush()
        session.add(
            LearningPlan(
                district_id=DEMO_DISTRICT,
                student_id=record.id,
                started_on_student_id=record.id,
                school_year="2026-27",
                start_date=date(2026, 11, 28),
            )
        )


def run_demo(console: Console) -> None:
    engine = get_engine()
    console.rule("ale-sync demo")
    upgrade(engine)
    console.print("1. database migrated")
    with transaction(engine) as session:
        session.execute(select(func.pg_advisory_xact_lock(990_001)))
        reset_demo_district(session)
        loaded = load_first_roster(session)
        create_records(session)
    console.print(f"2. district {DEMO_DISTRICT}: {loaded} SIS students loaded")
    console.print(f"3. {len(CREATED_RECORDS)} created records saved, each with a learning plan")
    with transaction(engine) as session:
        summary = session.execute(
            select(Student.origin, Student.status, func.count())
            .where(Student.district_id == DEMO_DISTRICT)
            .group_by(Student.origin, Student.status)
            .order_by(Student.origin, Student.status)
        ).all()
    table = Table(title=f"district {DEMO_DISTRICT}")
    for column in ("origin", "status", "records"):
        table.add_column(column)
    for origin, status, count in summary:
        table.add_row(str(origin), str(StudentStatus(status)), str(count))
    console.print(table)
    story = Table(title="created records")
    story.add_column("#")
    story.add_column("what the registrar entered")
    for number, seed in enumerate(CREATED_RECORDS, 1):
        story.add_row(str(number), seed.story)
    console.print(story)
