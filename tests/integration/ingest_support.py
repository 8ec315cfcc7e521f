"""What the ingest tests share: one district's source, and a delivery registered and ingested."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from config.settings import SourceConfig
from models.db import transaction
from worker.ingest import IngestResult, ingest_batch
from worker.pull import register_delivery

DISTRICT = "17099"
SOURCE = SourceConfig(district=DISTRICT, name="test", inbox=Path("/nonexistent"))


def ingest(engine: Engine, path: Path) -> IngestResult:
    """Register the delivery at PATH for SOURCE and ingest it now."""
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, path)
    return ingest_batch(engine, batch_id)
