"""`ale-sync batches replay` and `ale-sync sources`: an archived delivery ingested again, and the
configured SIS sources with their state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from config.settings import SourceConfig, get_settings
from models import Batch, SourceState
from models.db import get_engine, transaction
from worker.cli_batches import _finish, _print_plan
from worker.cli_output import console, fail, local_time, print_rows
from worker.ingest import BatchNotFound, ingest_batch
from worker.ingest.pipeline import source_of
from worker.sources.replay import ReplayRefused, replay_batch, replayable


def replay(
    batch_id: int,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """Ingest an archived delivery again (e.g. after fixing a source's mapping), as a new batch."""
    engine = get_engine()
    try:
        if dry_run:
            with transaction(engine) as session:
                batch = replayable(session, batch_id)
                source, path = source_of(batch), batch.archive_path
                session.expunge(batch)
            _print_plan(source, Path(path or ""), as_json)
            return
        new_id = replay_batch(engine, batch_id)
    except (BatchNotFound, ReplayRefused) as refused:
        raise fail(str(refused)) from None
    with transaction(engine) as session:
        assert session.scalar(select(Batch.replay_of).where(Batch.id == new_id)) == batch_id
    if not as_json:
        console.print(f"batch {new_id} replays batch {batch_id}")
    _finish(ingest_batch(engine, new_id), as_json)


def sources(
    district: Annotated[str | None, typer.Option("--district", "-d", help="Only this district.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """The configured SIS sources: kind, where they read, the API watermark, the last read and its error."""
    configured = get_settings().sources_for(district)
    with transaction() as session:
        states = {(s.district_id, s.source_name): s for s in session.scalars(select(SourceState))}
    rows = [_source_row(source, states.get((source.district, source.name))) for source in configured]

    def cells(row: dict[str, Any]) -> list[str]:
        return [row["district_id"], row["source"], row["kind"], row["reads"], local_time(row["watermark"]),
                local_time(row["last_read_at"]), row["last_error"] or "-"]  # fmt: skip

    columns = ("district", "source", "kind", "reads", "watermark", "last read", "last error")
    print_rows(
        rows, as_json=as_json, title="SIS sources", columns=columns, cells=cells, wrap=["reads", "last error"]
    )


def _source_row(source: SourceConfig, state: SourceState | None) -> dict[str, Any]:
    reads = {
        "inbox": str(source.inbox),
        "oneroster-api": source.api.base_url if source.api else "",
        "sftp": f"sftp://{source.sftp.host}:{source.sftp.port}{source.sftp.remote_dir}"
        if source.sftp
        else "",
    }[source.kind]
    return {
        "district_id": source.district,
        "source": source.name,
        "kind": source.kind,
        "reads": reads,
        "watermark": state.watermark.isoformat() if state and state.watermark else None,
        "full_read_requested": bool(state and state.full_read_requested),
        "last_read_at": state.last_read_at.isoformat(timespec="seconds")
        if state and state.last_read_at
        else None,
        "last_error": state.last_error if state else None,
    }
