"""Where a batch's delivery came from, as `ale-sync batches show` prints it, and `ale-sync batches replay`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from worker.cli_output import console, fail


def origin_lines(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines saying where the delivery came from: source, file or API read, watermark,
    pages and counts, and where the archived copy is."""
    origin: dict[str, Any] = row.get("provenance") or {}
    if origin.get("source_kind") == "replay":
        lines = [("replay of", f"batch {origin.get('replay_of')}")]
        origin = origin.get("original") or {}
    else:
        lines = []
    kind = origin.get("source_kind", "file")
    lines.append(("received", f"{kind} source {row['source']}"))
    if kind == "oneroster-api":
        lines += _api_lines(origin)
    elif kind == "sftp":
        lines.append(("from", f"sftp://{origin.get('host')}{origin.get('file')}"))
        lines.append(("remote file", f"{origin.get('size')} bytes, modified {origin.get('modified')}"))
    elif origin.get("file"):
        lines.append(("from", str(origin["file"])))
    lines.append(("archive", row.get("archive_path") or "not kept (past the retention period)"))
    return lines


def _api_lines(origin: dict[str, Any]) -> list[tuple[str, str]]:
    collections: dict[str, dict[str, Any]] = origin.get("collections") or {}
    pages = ", ".join(f"{name} {c['pages']}" for name, c in collections.items())
    counts = ", ".join(
        f"{name} {c['records']}"
        + (f" of {c['server_total']}" if c.get("server_total") is not None else "")
        + (f" ({c['malformed']} malformed)" if c.get("malformed") else "")
        for name, c in collections.items()
    )
    return [
        ("from", f"{origin.get('base_url')} (OneRoster {origin.get('api_version')})"),
        ("read", f"{origin.get('read')}" + (f", {origin['filter']}" if origin.get("filter") else "")),
        ("watermark", str(origin.get("watermark") or "none (the server sent no dateLastModified)")),
        ("pages", pages),
        ("records", counts),
        ("requests", _requests(origin)),
    ]


def _requests(origin: dict[str, Any]) -> str:
    return (
        f"{origin.get('requests')} ({origin.get('retries')} retried, {origin.get('tokens')} tokens, "
        f"{origin.get('attempts')} read attempts, {origin.get('seconds')} s)"
    )


def replay(
    batch_id: int,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """Ingest an archived delivery again (e.g. after fixing a source's mapping), as a new batch."""
    from sqlalchemy import select

    from models import Batch
    from models.db import get_engine, transaction
    from worker.cli_batches import _finish, _print_plan
    from worker.ingest import BatchNotFound, ingest_batch
    from worker.ingest.pipeline import source_of
    from worker.sources.replay import ReplayRefused, replay_batch, replayable

    engine = get_engine()
    try:
        if dry_run:
            with transaction(engine) as session:
                batch = replayable(session, batch_id)
                source, path = source_of(batch), batch.archive_path
                session.expunge(batch)
            _print_plan(source, _path(path), as_json)
            return
        new_id = replay_batch(engine, batch_id)
    except (BatchNotFound, ReplayRefused) as refused:
        raise fail(str(refused)) from None
    with transaction(engine) as session:
        assert session.scalar(select(Batch.replay_of).where(Batch.id == new_id)) == batch_id
    if not as_json:
        console.print(f"batch {new_id} replays batch {batch_id}")
    _finish(ingest_batch(engine, new_id), as_json)


def _path(value: str | None) -> Any:
    from pathlib import Path

    return Path(value or "")


def sources(
    district: Annotated[str | None, typer.Option("--district", "-d", help="Only this district.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """The configured SIS sources: kind, where they read, the API watermark, the last read and its error."""
    from config.settings import get_settings
    from models import SourceState
    from models.db import transaction
    from worker.cli_output import print_rows

    configured = get_settings().sources_for(district)
    with transaction() as session:
        states = {(s.district_id, s.source_name): s for s in session.query(SourceState).all()}
    rows = [_source_row(source, states.get((source.district, source.name))) for source in configured]

    def cells(row: dict[str, Any]) -> list[str]:
        return [row["district_id"], row["source"], row["kind"], row["reads"], row["watermark"] or "-",
                row["last_read_at"] or "-", row["last_error"] or "-"]  # fmt: skip

    columns = ("district", "source", "kind", "reads", "watermark", "last read", "last error")
    print_rows(
        rows, as_json=as_json, title="SIS sources", columns=columns, cells=cells, wrap=["reads", "last error"]
    )


def _source_row(source: Any, state: Any) -> dict[str, Any]:
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
