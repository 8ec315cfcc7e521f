"""SIS ingest: a registered delivery staged with COPY, checked set-wise, and applied all-or-nothing."""

from worker.ingest.decisions import approve_batch, reject_batch
from worker.ingest.ledger import BatchNotFound, BatchNotHeld, IngestResult, recorded_result
from worker.ingest.outcome import IngestPlan, QuarantineEntry
from worker.ingest.pipeline import dry_run, ingest_batch

__all__ = [
    "BatchNotFound",
    "BatchNotHeld",
    "IngestPlan",
    "IngestResult",
    "QuarantineEntry",
    "approve_batch",
    "dry_run",
    "ingest_batch",
    "recorded_result",
    "reject_batch",
]
