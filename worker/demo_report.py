"""The demo's closing table: each created record, what happened to it, and why."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import HoldRow, LinkAudit, Origin, Student, StudentStatus, SuggestionRow
from worker.cli_output import new_table
from worker.sample_roster import CreatedRecordSeed


def outcome_table(session: Session, district_id: str, seeds: Sequence[CreatedRecordSeed]) -> Table:
    records = session.scalars(
        select(Student)
        .where(Student.district_id == district_id, Student.origin == Origin.CREATED)
        .order_by(Student.id)
    ).all()
    columns = ("#", "created record", "entered", "outcome", "why")
    table = new_table(f"created records in district {district_id}", columns, wrap=columns[1:])
    for number, (record, seed) in enumerate(zip(records, seeds, strict=False), 1):
        entered = ", ".join(n for n, v in (("SSID", record.ssid), ("Other ID", record.other_id)) if v)
        table.add_row(
            str(number),
            f"{record.id} {record.first_name} {record.last_name}",
            entered or "no ids",
            describe(session, record),
            seed.story,
        )
    return table


def describe(session: Session, record: Student) -> str:
    """Linked (how, into which SIS record, from which batch), held (reason), or left unlinked."""
    if record.status == StudentStatus.MERGED:
        audit = session.scalars(select(LinkAudit).where(LinkAudit.created_record_id == record.id)).first()
        if audit is not None:
            batch = f", batch {audit.batch_id}" if audit.batch_id else ""
            return f"linked by {audit.method} into SIS record {audit.sis_record_id}{batch}"
        return f"linked into SIS record {record.merged_into_id}"
    hold = session.get(HoldRow, record.id)
    if hold is not None:
        return f"held: {hold.reason} (candidate SIS record {hold.candidate_sis_record_id})"
    suggestion = session.scalars(
        select(SuggestionRow).where(SuggestionRow.created_record_id == record.id)
    ).first()
    if suggestion is not None:
        return f"unlinked, suggested: {suggestion.kind} SIS record {suggestion.sis_record_id}"
    return "unlinked: waits in the unlinked table for staff"
