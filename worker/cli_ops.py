"""`ale-sync resync|status|unlinked|holds`: the ops commands over worker/sync.py and ops_queries.

Each command is an edge: it opens the transaction and passes the session down.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import Progress
from sqlalchemy import Engine

from models.db import get_engine, transaction
from worker.cli_output import (
    Page,
    age_text,
    console,
    fail,
    local_time,
    new_table,
    print_json,
    print_rows,
    print_table,
)
from worker.enqueue import enqueue_match_district, enqueue_pull
from worker.ops_queries import district_status, held_records, unlinked_records
from worker.pauses import pause_text
from worker.run_report import database_now, holds_since, links_since
from worker.sources.state import request_full_reads
from worker.sync import DistrictSync, pass_counts, sync_district, sync_districts

DistrictOption = Annotated[str | None, typer.Option("--district", "-d", help="Only this district.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Show at most this many.")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")]


def resync(
    district: DistrictOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Run here with a progress bar instead of queueing it for the worker; linked and held "
            "count what any process (the worker too) did during the run.",
        ),
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Read OneRoster API sources in full (bulk), not as a delta.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pull every SIS source, ingest what arrived and re-match: queued for the worker, or here with --wait."""
    engine = get_engine()
    districts = sync_districts(engine, district)
    if not districts:
        raise fail(f"no district {district} is configured or stored" if district else "no district to sync")
    if full:
        request_full_reads(engine, districts)
    if wait:
        _resync_inline(engine, districts, as_json)
    else:
        _resync_queued(districts, as_json)


def _resync_queued(districts: list[str], as_json: bool) -> None:
    rows = [
        {"district_id": d, "pull_task_id": enqueue_pull(d), "match_task_id": enqueue_match_district(d)}
        for d in districts
    ]
    if as_json:
        print_json(rows)
        return
    table = new_table("resync queued", ("district", "pull task", "match task"))
    for row in rows:
        table.add_row(row["district_id"], _task_text(row["pull_task_id"]), _task_text(row["match_task_id"]))
    print_table(table)


def _task_text(task_id: str | None) -> str:
    return task_id if task_id else "already queued"


def _resync_inline(engine: Engine, districts: list[str], as_json: bool) -> None:
    with transaction(engine) as session:
        started = database_now(session)
    results = []
    with Progress(console=console, transient=True, disable=as_json) as progress:
        bar = progress.add_task("resync", total=len(districts))
        for district in districts:
            progress.update(bar, description=f"district {district}")
            results.append(_sync_row(sync_district(engine, district)))
            progress.advance(bar)
    _count_from_database(engine, results, started)
    if as_json:
        print_json(results)
        return
    counts = ("new", "updated", "inactive", "quarantined", "linked", "held")
    table = new_table("resync", ("district", "batches", *counts), wrap=["batches"], right=counts)
    for row in results:
        batches = ", ".join(f"{b['batch_id']} {b['status']}" for b in row["batches"]) or "none new"
        totals = [str(sum(b["counts"].get(k, 0) for b in row["batches"])) for k in table_counts()]
        table.add_row(row["district_id"], batches, *totals, str(row["linked"]), str(row["held"]))
    print_table(table)


def _count_from_database(engine: Engine, results: list[dict[str, Any]], started: Any) -> None:
    """Linked and held as the database has them: made by any process (the worker too) during the run."""
    districts = [row["district_id"] for row in results]
    with transaction(engine) as session:
        linked, held = links_since(session, districts, started), holds_since(session, districts, started)
    for row in results:
        row["linked"], row["held"] = linked.get(row["district_id"], 0), held.get(row["district_id"], 0)


def table_counts() -> tuple[str, ...]:
    return ("inserted", "updated", "deactivated", "quarantined")


def _sync_row(done: DistrictSync) -> dict[str, Any]:
    return {
        "district_id": done.district_id,
        "batches": [
            {"batch_id": r.batch_id, "status": str(r.status), "counts": dict(r.counts), "reason": r.reason}
            for r in done.batches
        ],
        **pass_counts(done.match),
    }


def status(district: DistrictOption = None, as_json: JsonOption = False) -> None:
    """Per district: the last batch and its counts, unlinked and held records, the last error, a pause."""
    with transaction() as session:
        rows = district_status(session, district)
    if district and not rows:
        raise fail(f"no district {district}")

    def cells(row: dict[str, Any]) -> list[str]:
        return [
            row["district_id"],
            _batch_text(row["last_batch"]),
            _counts_text(row["last_batch"]),
            str(row["unlinked"]),
            str(row["held"]),
            age_text(row["oldest_unlinked_age_seconds"]),
            row["last_error"] or "-",
            pause_text(row["pause"]),
        ]

    columns = ("district", "last batch", "counts", "unlinked", "held", "oldest", "last error", "pause")
    print_rows(
        rows,
        as_json=as_json,
        title="ale-sync status",
        columns=columns,
        cells=cells,
        wrap=["last batch", "last error", "pause"],
    )


def _batch_text(batch: dict[str, Any] | None) -> str:
    if batch is None:
        return "none yet"
    reason = f" ({batch['reason']})" if batch["reason"] else ""
    return f"{batch['batch_id']} {batch['status']}{reason}"


def _counts_text(batch: dict[str, Any] | None) -> str:
    if batch is None:
        return "-"
    return "\n".join(f"{k} {v}" for k, v in batch["counts"].items() if v) or "no rows"


def unlinked(
    district: DistrictOption = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Created records not yet linked (the "Link Student to ALE" table), oldest first, with the total."""
    with transaction() as session:
        total, rows = unlinked_records(session, district, limit, offset)

    def cells(row: dict[str, Any]) -> list[str]:
        ids = ", ".join(n for n, has in (("SSID", row["has_ssid"]), ("Other ID", row["has_other_id"])) if has)
        return [
            row["district_id"],
            str(row["created_record_id"]),
            f"{row['first_name']} {row['last_name']}",
            ids or "none",
            details_text(row),
            row["hold_reason"] or "-",
            str(row["suggestions"]),
            age_text(row["age_seconds"]),
        ]

    columns = ("district", "record", "name", "ids entered", DETAILS, "held", "suggestions", "age")
    page = Page(total, offset, rows)
    print_rows(
        page,
        as_json=as_json,
        title="unlinked created records",
        columns=columns,
        cells=cells,
        wrap=["name", DETAILS],
    )


DETAILS = "born, grade, school"


def details_text(row: dict[str, Any]) -> str:
    """Birth date, grade and school as typed on the created record, or "-"."""
    grade = f"grade {row['grade']}" if row["grade"] else None
    return ", ".join(v for v in (row["birth_date"], grade, row["school_id"]) if v) or "-"


def holds(
    district: DistrictOption = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Created records held for a person, with the reason and the SIS record the ids pointed at."""
    with transaction() as session:
        total, rows = held_records(session, district, limit, offset)

    def cells(row: dict[str, Any]) -> list[str]:
        candidate = row["candidate_sis_record_id"]
        return [
            row["district_id"],
            str(row["created_record_id"]),
            row["name"],
            details_text(row),
            row["reason"],
            f"{candidate} {row['candidate_name']}" if candidate else "-",
            local_time(row["held_since"]),
        ]

    columns = ("district", "record", "name", DETAILS, "reason", "candidate", "held since")
    print_rows(
        Page(total, offset, rows),
        as_json=as_json,
        title="held created records",
        columns=columns,
        cells=cells,
        wrap=["name", DETAILS, "candidate"],
    )


def register(app: typer.Typer) -> None:
    for name, command in (("resync", resync), ("status", status), ("unlinked", unlinked), ("holds", holds)):
        app.command(name)(command)
