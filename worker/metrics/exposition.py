"""The /metrics answer: the database's gauges, plus the process metrics of every process on this
host (PROMETHEUS_MULTIPROC_DIR) or, without it, of this process alone."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from worker.metrics import process  # noqa: F401 - defines the process metrics this answer includes
from worker.metrics.state import DatabaseCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _ThisProcess(Collector):
    """The default registry's metrics (ours and the Python runtime's), when not in multiprocess mode."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def metrics_text(engine: Engine) -> bytes:
    """One scrape, in Prometheus' text format; a fresh registry each time, as multiprocess mode asks."""
    registry = CollectorRegistry()
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry)
