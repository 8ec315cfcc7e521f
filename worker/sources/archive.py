"""Every delivery kept as it was received: compressed, named by its checksum, private to ale-sync.

`<ARCHIVE_DIR>/<district>/<aa>/<checksum>.zip`. A zip delivery is kept byte for byte; a folder
or a plain CSV file is zipped with its files' names and bytes as sent, so the archive is itself
a delivery the ingest reads, with the same checksum (a replay). Folders are 0700 and files
0600: the archive holds what the database holds, and nobody else on the machine may read it.
Files older than ARCHIVE_RETENTION_DAYS are removed by the pull (`prune_archive`).
"""

from __future__ import annotations

import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.embedded import data_home
from config.settings import get_settings
from models import Batch, BatchStatus
from worker.sources.delivery import CHUNK, open_delivery

logger = structlog.get_logger(__name__)

# deflate's fastest level: a CSV shrinks about fourfold at a third of level 6's time
COMPRESS_LEVEL = 1
INCOMING = ".incoming"  # reads and downloads in progress, on the archive's own file system


def archive_root() -> Path:
    settings = get_settings()
    root = settings.archive_dir or data_home(settings.data_dir) / "archive"
    return private_folder(root)


def private_folder(folder: Path) -> Path:
    """FOLDER, and each of its parents this creates, readable by this user only."""
    missing = [folder, *(p for p in folder.parents if not p.exists())]
    for level in reversed(missing):
        level.mkdir(exist_ok=True, mode=0o700)
        level.chmod(0o700)
    return folder


def archived_path(district_id: str, checksum: str) -> Path:
    return archive_root() / district_id / checksum[:2] / f"{checksum}.zip"


def incoming_folder() -> Path:
    return private_folder(archive_root() / INCOMING)


@contextmanager
def private_file(target: Path) -> Iterator[BinaryIO]:
    """Write TARGET through a temporary file beside it (0600), renamed into place when complete."""
    private_folder(target.parent)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def archive_delivery(path: Path, district_id: str, checksum: str) -> Path:
    """The archived copy of the delivery at PATH (made now unless the archive already has it)."""
    target = archived_path(district_id, checksum)
    if target.is_file():
        return target
    delivery = open_delivery(path)
    with private_file(target) as out:
        if delivery.is_zip:
            with path.open("rb") as received:
                shutil.copyfileobj(received, out, CHUNK)
        else:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
                for name in sorted(delivery.members):
                    member = Path(delivery.members[name])
                    with delivery.open(name) as stream, archive.open(member.name, "w") as packed:
                        shutil.copyfileobj(stream, packed, CHUNK)
    logger.info("archive.delivery_archived", district_id=district_id, checksum=checksum[:12])
    return target


def archive_refused(path: Path, district_id: str, checksum: str) -> Path | None:
    """A refused delivery file kept byte for byte (a refused folder is not kept)."""
    if not path.is_file():
        return None
    target = archived_path(district_id, checksum)
    if not target.is_file():
        with path.open("rb") as received, private_file(target) as out:
            shutil.copyfileobj(received, out, CHUNK)
    return target


def prune_archive(session: Session, district_id: str, retention_days: int) -> int:
    """Remove the district's archived deliveries whose every batch is older than the retention and
    finished; the ledger rows stay (archive_path cleared). How many files were removed."""
    cutoff = func.now() - timedelta(days=retention_days)
    finished = (BatchStatus.APPLIED, BatchStatus.REJECTED, BatchStatus.FAILED)
    old = session.execute(
        select(Batch.id, Batch.archive_path).where(
            Batch.district_id == district_id,
            Batch.archive_path.is_not(None),
            Batch.received_at < cutoff,
            Batch.status.in_(finished),
        )
    ).all()
    kept = set(
        session.scalars(
            select(Batch.archive_path).where(
                Batch.district_id == district_id,
                Batch.archive_path.in_({p for _, p in old}),
                (Batch.received_at >= cutoff) | Batch.status.not_in(finished),
            )
        )
    )
    gone = {path for _, path in old if path not in kept and path is not None}
    for path in gone:
        Path(path).unlink(missing_ok=True)
    ids = [batch_id for batch_id, path in old if path in gone]
    if ids:
        session.execute(update(Batch).where(Batch.id.in_(ids)).values(archive_path=None))
        logger.info("archive.pruned", district_id=district_id, files=len(gone), batches=len(ids))
    return len(gone)
