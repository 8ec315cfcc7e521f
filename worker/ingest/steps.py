"""The step a running ingest is at, so a batch that fails says where (the error's class and
the step, in the product's words; never the error's message, which may quote a value)."""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.exc import DBAPIError

_step: ContextVar[str] = ContextVar("ingest_step", default="opening the batch")


def at_step(step: str) -> None:
    """Name the step the ingest is at (in the product's words, never a value)."""
    _step.set(step)


def failure_of(error: BaseException) -> str:
    """What a failed batch records: the error's class (the database driver's own, with its
    SQLSTATE), and the step it failed in; never its message, which may quote a value."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    sqlstate = getattr(cause, "sqlstate", None)
    code = f" (SQLSTATE {sqlstate})" if isinstance(sqlstate, str) else ""
    return f"{type(cause).__name__}{code} while {_step.get()}"
