"""Pull: read each configured source and register every delivery not yet in the batch ledger.

A source is an inbox folder something else fills, a OneRoster REST API read here, or an SFTP
folder downloaded from (worker/sources/). Each delivery is archived as received and registered
under its content checksum per district, so the same bytes delivered again (renamed, re-zipped
from the same files, re-listed, re-read) are a reported no-op. A source that cannot be read
this time is logged and noted (`source_states.last_error`); the others are still pulled.
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
    return register_batch(session, source, Received(location, checksum, archived, origin))


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


def register_batch(session: Session, source: SourceConfig, received: Received) -> tuple[int, bool]:
    ensure_district(session, source.district)
    refused = received.refused is not None
    inserted = session.execute(
        insert(Batch)
        .values(
            district_id=source.district,
            source_name=source.name,
            location=str(received.location),
            checksum=received.checksum,
            status=BatchStatus.REJECTED if refused else BatchStatus.RECEIVED,
            reject_reason=received.refused,
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
    event = "pull.delivery_registered_rejected" if refused else "pull.delivery_registered"
    logger.info(event, batch_id=inserted, district_id=source.district, source=source.name)
    return inserted, True


def registered_batch(session: Session, district_id: str, checksum: str) -> int | None:
    return session.scalar(
        select(Batch.id).where(
            Batch.district_id == district_id, Batch.checksum == checksum, Batch.replay_of.is_(None)
        )
    )


def pull_sources(engine: Engine, district: str | None = None) -> list[int]:
    """Register new deliveries of every configured source (or one district's); the new batch ids, in order."""
    settings = get_settings()
    new_ids: list[int] = []
    sources = settings.sources_for(district)
    for source in sources:
        try:
            new_ids += PULLERS[source.kind](engine, source)
        except SourceUnavailable as error:
            logger.warning(
                "pull.source_unavailable",
                district_id=source.district,
                source=source.name,
                code=error.code,
                reason=error.reason,
            )
            record_read(engine, source, error.reason, datetime.now(UTC))
        else:
            if source.kind != "inbox":
                record_read(engine, source, None, datetime.now(UTC))
    for district_id in sorted({s.district for s in sources}):
        with transaction(engine) as session:
            prune_archive(session, district_id, settings.archive_retention_days)
    return new_ids


def pull_inbox(engine: Engine, source: SourceConfig) -> list[int]:
    new_ids = []
    for path in _inbox_deliveries(source):
        with transaction(engine) as session:
            origin = {"source_kind": "inbox", "file": str(path.resolve())}
            batch_id, new = register_delivery(session, source, path, origin)
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


def pull_api(engine: Engine, source: SourceConfig) -> list[int]:
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
        batch_id, new = register_batch(session, source, received)
    if delivery.incomplete is not None:
        # registered rejected (nothing applied); the source's last error says so too
        raise SourceUnavailable("incomplete_read", f"{delivery.incomplete} (batch {batch_id}, rejected)")
    return [batch_id] if new else []


def pull_sftp(engine: Engine, source: SourceConfig) -> list[int]:
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
                    session, source, file.path, _sftp_origin(source, file), read_from_archive=True
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


PULLERS: dict[str, Callable[[Engine, SourceConfig], list[int]]] = {
    "inbox": pull_inbox,
    "oneroster-api": pull_api,
    "sftp": pull_sftp,
}
