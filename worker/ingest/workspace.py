"""Where a batch's working tables (staged files, ingest_rows, ...) live for its transaction.

By default in a schema of the ingest's own, `ale_ingest_<backend pid>`, created inside the
batch's transaction and put first on its search_path, holding UNLOGGED tables: unlike
temporary tables, Postgres can scan and join these with parallel workers, which takes about a
third off the statement that joins and compares every row. The schema is dropped before the
transaction commits, and a transaction that rolls back (a rejected delivery, a crash) takes its
creation back with it, so nothing is left behind and no other session ever sees it. A database
role without CREATE on the database gets temporary tables instead (dropped at commit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import CursorResult, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from worker.sql import compose

SHARED = "ale_ingest_work_schema"  # session.info key: the schema while a workspace is open

CREATE_SCHEMA = "CREATE SCHEMA {schema}"
DROP_SCHEMA = "DROP SCHEMA {schema} CASCADE"
# working tables: UNLOGGED ones in the workspace's schema (a parallel scan can read them), or
# temporary ones where the role may not create a schema
UNLOGGED_TABLE = "CREATE UNLOGGED TABLE {name} ({columns})"
UNLOGGED_TABLE_AS = "CREATE UNLOGGED TABLE {name} AS {select}"
TEMP_TABLE = "CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP"
TEMP_TABLE_AS = "CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}"


@contextmanager
def workspace(session: Session) -> Iterator[None]:
    """Open the batch's workspace in the caller's transaction; closing it drops every table in it."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    schema = f"ale_ingest_{int(pid)}"
    try:
        with session.begin_nested():
            session.execute(text(compose(CREATE_SCHEMA, schema=schema)))
    except ProgrammingError as error:
        if not isinstance(error.orig, psycopg.errors.InsufficientPrivilege):
            raise
        yield  # temporary tables
        return
    previous = session.execute(text("SELECT current_setting('search_path')")).scalar_one()
    session.execute(text("SELECT set_config('search_path', :path, true)"), {"path": f"{schema}, {previous}"})
    session.info[SHARED] = schema
    try:
        yield
    finally:
        session.info.pop(SHARED, None)
    session.execute(text(compose(DROP_SCHEMA, schema=schema)))
    session.execute(text("SELECT set_config('search_path', :path, true)"), {"path": previous})


def create_work_table(
    session: Session,
    name: str,
    *,
    columns: str | None = None,
    select: str | None = None,
    params: dict[str, Any] | None = None,
) -> CursorResult[Any]:
    """CREATE working table NAME from a column list or a SELECT; the result carries its row count."""
    unlogged = SHARED in session.info
    if select is not None:
        statement = compose(UNLOGGED_TABLE_AS if unlogged else TEMP_TABLE_AS, name=name, select=select)
    elif columns is not None:
        statement = compose(UNLOGGED_TABLE if unlogged else TEMP_TABLE, name=name, columns=columns)
    else:
        raise ValueError("a working table needs its columns or a SELECT")
    # the connection's execute returns the cursor result (and its row count) as such
    return session.connection().execute(text(statement), params or {})
