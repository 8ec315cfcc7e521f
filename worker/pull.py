"""Pull: read each configured source and register every delivery not yet in the batch ledger.

A source is an inbox folder something else fills, a OneRoster REST API read here, or an SFTP
folder downloaded from (worker/sources/). Each delivery is archived as received and registered
under its content checksum per district, so the same bytes delivered again (renamed, re-zipped
from the same files, re-listed, re-read) are a reported no-op. A source that cannot be read
this time is logged and noted (`source_states.last_error`); the others are still pulled.

A district's pause in force (models/pause.py) decides first: a skip pause leaves its sources
unread until the window ends; a hold pause registers what they deliver as held for ops.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, SeenFile
from models.db import transaction
from models.pause import PauseState, pause_state
from worker.sources import sftp
from worker.sources.archive import (
    archive_delivery,
    archive_refused,
    archived_path,
    incoming_folder,
    private_folder,
    prune_archive,
)
from worker.sources.delivery import is_delivery, open_delivery, raw_checksum
from worker.sources.errors import DeliveryRejected, SourceUnavailable
from worker.sources.oneroster_api.read import read_api_source
from worker.sources.state import ensure_district, read_plan, record_read, waiting_batch

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Received:
    """A delivery ready for the ledger."""

    location: Path  # what the ingest reads
    checksum: str
    archive_path: Path | None  # None: a refused folder, which is not kept
    provenance: dict[str, Any]
    refused: str | None = None  # refused before ingest (an incomplete API read, an unsafe file): rejected


def register_delivery(
    session: Session,
    source: SourceConfig,
    path: Path,
    provenance: dict[str, Any] | None = None,
    *,
    read_from_archive: bool = False,
    hold_reason: str | None = None,
) -> tuple[int, bool]:
    """(batch id, newly registered): the ledger row for the delivery at PATH, archived and added if new."""
    try:
        checksum = open_delivery(path).checksum()
    except DeliveryRejected as refused:
        return _register_refused(session, source, path, provenance, refused)
    existing = registered_batch(session, source.district, checksum)
    if existing is not None:
        logger.info("pull.delivery_already_registered", batch_id=existing, district_id=source.district)
        return existing, False
    archived = archive_delivery(path, source.district, checksum)
    origin = provenance or {"source_kind": "file", "file": str(path.resolve())}
    location = archived if read_from_archive else path.resolve()
    return register_batch(session, source, Received(location, checksum, archived, origin), hold_reason)


def _register_refused(
    session: Session,
    source: SourceConfig,
    path: Path,
    provenance: dict[str, Any] | None,
    refused: DeliveryRejected,
) -> tuple[int, bool]:
    """A delivery that cannot be read safely is registered rejected, under its bytes' checksum,
    so ops see why and the next pull does not try it again."""
    checksum = raw_checksum(path)
    existing = registered_batch(session, source.district, checksum)
    if existing is not None:
        return existing, False
    logger.warning("pull.delivery_refused", district_id=source.district, code=refused.code)
    origin = provenance or {"source_kind": "file", "file": str(path.resolve())}
    kept = archive_refused(path, source.district, checksum)
    return register_batch(session, source, Received(path.resolve(), checksum, kept, origin, refused.reason))


def register_batch(
    session: Session, source: SourceConfig, received: Received, hold_reason: str | None = None
) -> tuple[int, bool]:
    """Add the delivery to the ledger: to be ingested, rejected (an incomplete read), or held
    unread for ops (HOLD_REASON, a pause)."""
    ensure_district(session, source.district)
    refused = received.refused is not None
    status = BatchStatus.REJECTED if refused else BatchStatus.HELD if hold_reason else BatchStatus.RECEIVED
    inserted = session.execute(
        insert(Batch)
        .values(
            district_id=source.district,
            source_name=source.name,
            location=str(received.location),
            checksum=received.checksum,
            status=status,
            reject_reason=received.refused,
            hold_reason=None if refused else hold_reason,
            finished_at=datetime.now(UTC) if refused else None,
            provenance=received.provenance,
            archive_path=str(received.archive_path) if received.archive_path else None,
            **dict.fromkeys(("rows_total", "inserted", "updated", "unchanged"), 0),
            **dict.fromkeys(("deactivated", "quarantined", "ignored"), 0),
        )
        .on_conflict_do_nothing(
            index_elements=["district_id", "checksum"], index_where=Batch.replay_of.is_(None)
        )
        .returning(Batch.id)
    ).scalar_one_or_none()
    if inserted is None:
        existing = registered_batch(session, source.district, received.checksum)
        assert existing is not None
        logger.info("pull.delivery_already_registered", batch_id=existing, district_id=source.district)
        return existing, False
    event = {
        BatchStatus.REJECTED: "pull.delivery_registered_rejected",
        BatchStatus.HELD: "pull.delivery_held_by_pause",
        BatchStatus.RECEIVED: "pull.delivery_registered",
    }[status]
    logger.info(event, batch_id=inserted, district_id=source.district, source=source.name)
    return inserted, True


def registered_batch(session: Session, district_id: str, checksum: str) -> int | None:
    return session.scalar(
        select(Batch.id).where(
            Batch.district_id == district_id, Batch.checksum == checksum, Batch.replay_of.is_(None)
        )
    )


def pull_sources(engine: Engine, district: str | None = None, now: datetime | None = None) -> list[int]:
    """Register new deliveries of every configured source (or one district's) as the district's
    pause at NOW (default: the clock) allows; the new batch ids, in order."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    new_ids: list[int] = []
    sources = settings.sources_for(district)
    pauses: dict[str, PauseState] = {}
    for source in sources:
        if source.district not in pauses:
            pauses[source.district] = district_pause(engine, source.district, now)
        pause = pauses[source.district]
        if pause.skips_pulls:
            continue
        new_ids += _pull_one(engine, source, pause.hold_reason)
    for district_id in sorted({s.district for s in sources}):
        with transaction(engine) as session:
            prune_archive(session, district_id, settings.archive_retention_days)
    return new_ids


def district_pause(engine: Engine, district_id: str, now: datetime) -> PauseState:
    """The district's pause state at NOW, logged when a pause changes what a pull does."""
    with transaction(engine) as session:
        state = pause_state(session, district_id, now)
    if state.in_force is not None or state.hold_reason is not None:
        window = state.in_force
        logger.info(
            "pull.district_paused",
            district_id=district_id,
            pause_id=window.pause_id if window else None,
            action=str(window.action) if window else "hold_until_decided",
            held_waiting=state.deliveries_held,
        )
    return state


def _pull_one(engine: Engine, source: SourceConfig, hold_reason: str | None) -> list[int]:
    try:
        new_ids = PULLERS[source.kind](engine, source, hold_reason)
    except SourceUnavailable as error:
        logger.warning(
            "pull.source_unavailable",
            district_id=source.district,
            source=source.name,
            code=error.code,
            reason=error.reason,
        )
        record_read(engine, source, error.reason, datetime.now(UTC))
        return []
    if source.kind != "inbox":
        record_read(engine, source, None, datetime.now(UTC))
    return new_ids


def pull_inbox(engine: Engine, source: SourceConfig, hold_reason: str | None = None) -> list[int]:
    new_ids = []
    for path in _inbox_deliveries(source):
        with transaction(engine) as session:
            origin = {"source_kind": "inbox", "file": str(path.resolve())}
            batch_id, new = register_delivery(session, source, path, origin, hold_reason=hold_reason)
        if new:
            new_ids.append(batch_id)
    return new_ids


def _inbox_deliveries(source: SourceConfig) -> list[Path]:
    """The inbox's deliveries in name order (exports are named by time, so deltas apply in order)."""
    if source.inbox is None or not source.inbox.is_dir():
        logger.warning("pull.inbox_missing", district_id=source.district, source=source.name)
        return []
    return [
        p
        for p in sorted(source.inbox.iterdir())
        if not p.name.startswith(".") and is_delivery(p, source.format)
    ]


def pull_api(engine: Engine, source: SourceConfig, hold_reason: str | None = None) -> list[int]:
    """One read of a OneRoster API source (bulk or delta), registered as one batch."""
    with transaction(engine) as session:
        waiting = waiting_batch(session, source)
        plan = read_plan(session, source)
    if waiting is not None:
        # its next read would pile up behind it; a held batch waits for ops to decide
        logger.info(
            "pull.source_waits_for_batch", district_id=source.district, source=source.name, batch_id=waiting
        )
        return []
    delivery = read_api_source(source, plan, incoming_folder())
    if delivery is None:
        logger.info("pull.api_nothing_changed", district_id=source.district, source=source.name)
        return []
    target = archived_path(source.district, delivery.checksum)
    private_folder(target.parent)
    os.replace(delivery.path, target)
    target.chmod(0o600)
    received = Received(target, delivery.checksum, target, delivery.provenance, delivery.incomplete)
    with transaction(engine) as session:
        batch_id, new = register_batch(session, source, received, hold_reason)
    if delivery.incomplete is not None:
        # registered rejected (nothing applied); the source's last error says so too
        raise SourceUnavailable("incomplete_read", f"{delivery.incomplete} (batch {batch_id}, rejected)")
    return [batch_id] if new else []


def pull_sftp(engine: Engine, source: SourceConfig, hold_reason: str | None = None) -> list[int]:
    """Download the SFTP folder's new files; register each; move the registered ones if configured."""
    assert source.sftp is not None
    config = source.sftp
    with transaction(engine) as session:
        seen = set(
            session.execute(
                select(SeenFile.file_name, SeenFile.size, SeenFile.modified).where(
                    SeenFile.district_id == source.district, SeenFile.source_name == source.name
                )
            ).tuples()
        )
    folder = private_folder(incoming_folder() / uuid.uuid4().hex)
    new_ids, processed = [], []
    try:
        for file in sftp.download_new(config, lambda r: (r.name, r.size, r.modified) in seen, folder):
            with transaction(engine) as session:
                batch_id, new = register_delivery(
                    session,
                    source,
                    file.path,
                    _sftp_origin(source, file),
                    read_from_archive=True,
                    hold_reason=hold_reason,
                )
                _remember(session, source, file, batch_id)
            processed.append(file.remote.name)
            if new:
                new_ids.append(batch_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sftp.move_processed(config, processed)
    return new_ids


def _sftp_origin(source: SourceConfig, file: sftp.Downloaded) -> dict[str, Any]:
    assert source.sftp is not None
    config = source.sftp
    return {
        "source_kind": "sftp",
        "host": f"{config.host}:{config.port}",
        "file": f"{config.remote_dir.rstrip('/')}/{file.remote.name}",
        "size": file.remote.size,
        "modified": datetime.fromtimestamp(file.remote.modified, UTC).isoformat(),
        "moved_to": config.move_processed_to,
    }


def _remember(session: Session, source: SourceConfig, file: sftp.Downloaded, batch_id: int) -> None:
    checksum = session.scalar(select(Batch.checksum).where(Batch.id == batch_id))
    session.execute(
        insert(SeenFile)
        .values(
            district_id=source.district,
            source_name=source.name,
            file_name=file.remote.name,
            size=file.remote.size,
            modified=file.remote.modified,
            checksum=checksum,
            batch_id=batch_id,
        )
        .on_conflict_do_nothing()
    )


# each takes the hold reason its deliveries are registered under (a pause in force), or None
PULLERS: dict[str, Callable[[Engine, SourceConfig, str | None], list[int]]] = {
    "inbox": pull_inbox,
    "oneroster-api": pull_api,
    "sftp": pull_sftp,
}
