"""The name of every task, defined once: the tasks register under them, and everything that
queues work (beat, the outbox publisher, ops) sends by name without importing the tasks."""

from __future__ import annotations

from typing import Final

PULL_ALL_SOURCES: Final = "ale_sync.pull_all_sources"
PULL_DISTRICT: Final = "ale_sync.pull_district"
INGEST_BATCH: Final = "ale_sync.ingest_batch"
MATCH_DISTRICT: Final = "ale_sync.match_district"
PUBLISH_OUTBOX: Final = "ale_sync.publish_outbox"
NIGHTLY_REMATCH: Final = "ale_sync.nightly_rematch"
SEND_NOTIFICATIONS: Final = "ale_sync.send_notifications"
