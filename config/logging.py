"""structlog set-up: JSON when not on a terminal, console in one; stdlib and Celery go the same way.

Context (request id, task id, batch id, district id) is bound with contextvars for one unit
of work and cleared after it (see `unit_of_work`). Redaction is the last processor before
rendering, so nothing reaches the output without passing through it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from config.redaction import rebuild_foreign_message, redact_event
from config.settings import get_settings

_configured: dict[str, Any] = {}


def _renderer(log_format: str, stream: TextIO) -> Any:
    use_console = log_format == "console" or (log_format == "auto" and stream.isatty())
    if use_console:
        return structlog.dev.ConsoleRenderer(colors=stream.isatty(), exception_formatter=lambda *_: None)
    return structlog.processors.JSONRenderer(sort_keys=False)


def configure_logging(log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging (Celery, uvicorn, SQLAlchemy) through one redacting pipeline."""
    out = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        redact_event,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[rebuild_foreign_message, *shared],
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(log_format, out),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # libraries that would otherwise print statement parameters or task arguments
    for noisy in ("sqlalchemy.engine", "sqlalchemy.pool", "alembic", "pgserver", "celery.redirected"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured.update(format=log_format, level=level)


def configure_from_settings() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)


@contextmanager
def unit_of_work(**context: Any) -> Iterator[None]:
    """Bind ids (request_id, task_id, batch_id, district_id) for one unit of work, then clear them."""
    tokens = structlog.contextvars.bind_contextvars(**context)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
