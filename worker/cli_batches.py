"""`ale-sync ingest` and `ale-sync batches`: ingest a bundle by hand, read the ledger, decide holds.

Exit codes: 0 applied (or already applied), 1 rejected, failed or not found, 2 bad usage,
3 held for an ops decision (`ale-sync batches approve|reject`).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, QuarantinedRow
from models.db import get_engine, transaction
from worker.cli_origin import origin_lines
from worker.cli_output import Page, console, fail, local_time, new_table, print_json, print_rows, print_table
from worker.ingest import (
    BatchNotFound,
    BatchNotHeld,
    IngestResult,
    approve_batch,
    dry_run,
    ingest_batch,
    recorded_result,
    reject_batch,
)
from worker.ops_queries import listed
from worker.pull import register_delivery
from worker.sources.delivery import format_of

HELD_EXIT = 3
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (default: the login name).")]

batches_app = typer.Typer(
    help="The batch ledger: list, show (with where each delivery came from), approve or reject held "
    "batches, replay an archived delivery.",
    no_args_is_help=True,
)


def ingest(
    path: Annotated[
        Path, typer.Argument(help="A OneRoster folder or .zip, or a plain CSV file.", exists=True)
    ],
    district: Annotated[
        str | None, typer.Option("--district", "-d", help="The district it belongs to.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest one delivery now (exit 0 applied, 1 rejected or failed, 3 held), or print its plan."""
    source = _source(path, district)
    if dry_run:
        _print_plan(source, path, as_json)
        return
    engine = get_engine()
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, source, path)
    try:
        result = ingest_batch(engine, batch_id)
    except Exception:
        result = recorded_result(engine, batch_id)
        if result.status != BatchStatus.FAILED:
            raise
    _finish(result, as_json)  # a failed batch: its reason names the error's class and the step


def _source(path: Path, district: str | None) -> SourceConfig:
    configured = get_settings().sources_for(district)
    if district is None and len(configured) != 1:
        raise fail("say which district the delivery belongs to with --district", 2)
    if configured:
        return configured[0]
    return SourceConfig(district=district or "", name="cli", inbox=path.parent, format=format_of(path))


def _print_plan(source: SourceConfig, path: Path, as_json: bool) -> None:
    plan = dry_run(path, source)
    code = 1 if plan.reject_reason else HELD_EXIT if plan.would_hold else 0
    if as_json:
        print_json({**asdict(plan), "would_hold": plan.would_hold})
        raise typer.Exit(code)
    if plan.reject_reason:
        raise fail(f"would be rejected: {plan.reject_reason}")
    console.print(f"dry run, district {plan.district_id}, {plan.kind} delivery, {plan.rows_total} rows")
    print_table(_counts_table(plan.counts))
    if plan.quarantined_rows:
        table = new_table(
            "quarantined rows", ("file", "row", "reason", "detail", "sourcedId"), wrap=["detail"]
        )
        for row in plan.quarantined_rows:
            table.add_row(
                row.file_name, str(row.row_number), row.reason_code, row.detail or "", row.sis_source_id or ""
            )
        print_table(table)
    console.print(f"would be held: {plan.hold_reason}" if plan.would_hold else "would be applied")
    raise typer.Exit(code)


def _counts_table(counts: dict[str, int]) -> Table:
    table = new_table(None, list(counts), right=list(counts))
    table.add_row(*(str(v) for v in counts.values()))
    return table


def _finish(result: IngestResult, as_json: bool) -> None:
    code = {BatchStatus.APPLIED: 0, BatchStatus.HELD: HELD_EXIT}.get(result.status, 1)
    if as_json:
        print_json({**asdict(result), "status": str(result.status)})
        raise typer.Exit(code)
    console.print(f"batch {result.batch_id} of district {result.district_id}: {result.status}")
    print_table(_counts_table(result.counts))
    if result.reason:
        console.print(f"reason: {result.reason}", markup=False)
    raise typer.Exit(code)


@batches_app.command("list")
def list_batches(
    district: Annotated[str | None, typer.Option("--district", "-d", help="Only this district.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only batches in this status, e.g. held.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The newest batches with their status and counts."""
    query = select(Batch).order_by(Batch.id.desc())
    if district:
        query = query.where(Batch.district_id == district)
    if status:
        query = query.where(Batch.status == status)
    with transaction() as session:
        total, found = listed(session, query, limit, 0)
        rows = [_batch_row(b) for (b,) in found]
    counts = ("inserted", "updated", "unchanged", "deactivated", "quarantined")

    def cells(row: dict[str, Any]) -> list[str]:
        fields = ("id", "district_id", "status", "kind", *counts, "reason")
        return [*(str(row[c] if row[c] is not None else "") for c in fields), local_time(row["received_at"])]

    columns = ("id", "district", "status", "kind", *counts, "reason", "received")
    print_rows(
        Page(total, 0, rows) if not as_json else rows,
        as_json=as_json,
        title="batches",
        columns=columns,
        cells=cells,
        wrap=["reason", "received"],
    )


@batches_app.command("show")
def show_batch(batch_id: int, as_json: JsonOption = False) -> None:
    """One batch: its ledger row and its quarantined rows (row number, reason)."""
    with transaction() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise fail(f"batch {batch_id} not found")
        row = _batch_row(batch)
        quarantined = session.execute(
            select(QuarantinedRow)
            .where(QuarantinedRow.batch_id == batch_id)
            .order_by(QuarantinedRow.row_number)
        ).scalars()
        row["quarantined_rows"] = [
            {"file": q.file_name, "row": q.row_number, "reason": q.reason_code, "detail": q.detail}
            for q in quarantined
        ]
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        shown = local_time(value) if key in ("received_at", "finished_at") else value
        if key not in ("quarantined_rows", "provenance", "archive_path"):
            console.print(f"{key:>12}: {shown if shown is not None else ''}", markup=False)
    for label, text in origin_lines(row):
        console.print(f"{label:>12}: {text}", markup=False, soft_wrap=True)
    if row["quarantined_rows"]:
        table = new_table("quarantined rows", ("file", "row", "reason", "detail"), wrap=["detail"])
        for q in row["quarantined_rows"]:
            table.add_row(q["file"], str(q["row"]), q["reason"], q["detail"] or "")
        print_table(table)


@batches_app.command("approve")
def approve(batch_id: int, by: ByOption = "", as_json: JsonOption = False) -> None:
    """Apply a held batch as it stands (the safety check is skipped; the decision is audited)."""
    _finish(_decide(lambda: approve_batch(get_engine(), batch_id, by or getpass.getuser())), as_json)


@batches_app.command("reject")
def reject(
    batch_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the ledger.")],
    by: ByOption = "",
    as_json: JsonOption = False,
) -> None:
    """Close a held batch without applying anything (audited)."""
    result = _decide(lambda: reject_batch(get_engine(), batch_id, by or getpass.getuser(), reason))
    if as_json:
        print_json({**asdict(result), "status": str(result.status)})
        return
    console.print(f"batch {result.batch_id} of district {result.district_id}: {result.status}")


def _decide(action: Callable[[], IngestResult]) -> IngestResult:
    try:
        return action()
    except (BatchNotFound, BatchNotHeld) as refused:
        raise fail(str(refused)) from None


def _batch_row(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "district_id": batch.district_id,
        "source": batch.source_name,
        "status": str(batch.status),
        "kind": str(batch.kind) if batch.kind else None,
        "rows_total": batch.rows_total,
        **{k: getattr(batch, k) for k in ("inserted", "updated", "unchanged", "deactivated", "quarantined")},
        "ignored": batch.ignored,
        "reason": batch.hold_reason or batch.reject_reason or batch.error,
        "decided_by": batch.decided_by,
        "received_at": batch.received_at.isoformat() if batch.received_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "replay_of": batch.replay_of,
        "provenance": batch.provenance,
        "archive_path": batch.archive_path,
    }
