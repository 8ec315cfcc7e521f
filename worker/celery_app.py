"""The Celery app: Redis broker, explicit task defaults, logging through our redacting pipeline.

The broker URL is read when the configuration is first needed (not at import), so importing
this module never starts the embedded Redis and tests can point the app at their own server.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from config.logging import configure_from_settings
from models.db import dispose_engines

app = Celery("ale_sync", include=["worker.tasks"])
app.config_from_object("worker.celery_config")


def _route_celery_logging(**_: Any) -> None:
    """Celery's records go through the same redacting structlog pipeline as ours."""
    configure_from_settings()


def _fresh_connections_after_fork(**_: Any) -> None:
    """A forked pool process must never reuse the parent's database connections."""
    dispose_engines()


# connected by a call rather than as decorators: celery's untyped decorators would untype them
signals.setup_logging.connect(_route_celery_logging)
signals.worker_process_init.connect(_fresh_connections_after_fork)
