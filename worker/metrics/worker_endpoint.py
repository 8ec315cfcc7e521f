"""A host that runs workers but no web process serves its workers' process metrics itself.

With WORKER_METRICS_PORT set, the worker's main process listens there and answers with what
every pool process counted (the PROMETHEUS_MULTIPROC_DIR files); the database's gauges stay the
web's /metrics alone, so no district is counted twice.
"""

from __future__ import annotations

import os
from typing import Any

import structlog
from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from config.settings import get_settings
from worker.metrics.exposition import MULTIPROC_ENV

logger = structlog.get_logger(__name__)


def serve_worker_metrics(**_: Any) -> None:
    port = get_settings().worker_metrics_port
    if port is None:
        return
    registry = REGISTRY
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]  # untyped upstream
    start_http_server(port, registry=registry)
    logger.info("worker_metrics_listening", port=port)


# connected by a call rather than as a decorator: celery's untyped decorators would untype it
signals.worker_ready.connect(serve_worker_metrics, weak=False)
