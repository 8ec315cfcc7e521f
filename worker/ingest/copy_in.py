"""COPY a delivery's CSV file into a working table (columns c1..cN), bytes as sent.

The fast path hands the raw bytes to COPY (no Python work per row). Exports that COPY
cannot read as sent (rows with fewer or more fields than the header, mixed line endings)
fall back to Python's csv reader, which pads short rows and flags long ones; undecodable
bytes reject the delivery in both paths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, cast

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header, clean_header
from worker.sources.delivery import CHUNK, Delivery
from worker.sources.errors import DeliveryRejected
from worker.sql import compose

logger = structlog.get_logger(__name__)

UNDECODABLE = (psycopg.errors.CharacterNotInRepertoire, psycopg.errors.UntranslatableCharacter)

# the users file's table also numbers its records and flags one with more fields than the header
NUMBERED = "n bigserial, {columns}, extra boolean NOT NULL DEFAULT false"
NUMBERED_NAMES = "n, {columns}, extra"
TRUNCATE = "TRUNCATE {table}"
# the fast path: the file's bytes as sent, header line included (COPY skips it)
COPY_CSV = "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"
# the fallback: rows Python's csv reader parsed, sent in COPY's own format
COPY_ROWS = "COPY {table} ({columns}) FROM STDIN"


def staged_columns(positions: int | Iterable[int], alias: str = "", kind: str = "") -> str:
    """The working table's columns c1..cN (or those at POSITIONS) as an SQL list: `u.c1, u.c2`
    with ALIAS u, `c1 text, c2 text` with KIND text. Header names are untrusted text, so staged
    files name their columns by position."""
    numbers = range(1, positions + 1) if isinstance(positions, int) else positions
    prefix, suffix = f"{alias}." if alias else "", f" {kind}" if kind else ""
    return ", ".join(f"{prefix}c{n}{suffix}" for n in numbers)


def read_header(delivery: Delivery, name: str) -> Header:
    with delivery.open(name) as stream:
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        try:
            names = clean_header(next(reader))
        except StopIteration:
            raise DeliveryRejected("empty_file", f"{name} is empty (no header line)") from None
        except UnicodeDecodeError:
            raise DeliveryRejected("undecodable", f"{name} is not UTF-8") from None
    if not names:
        raise DeliveryRejected("empty_file", f"{name} has an empty header line")
    return Header(names)


def stage_file(
    session: Session, delivery: Delivery, name: str, table: str, *, numbered: bool = False
) -> Header:
    """Create TABLE (c1..cN; when NUMBERED also n = record number after the header and extra = the
    record had more fields than the header) and fill it from file NAME; the header returned knows
    how many records it staged. Only the users file is numbered: numbering costs a fifth of COPY."""
    header = read_header(delivery, name)
    columns = staged_columns(len(header.names), kind="text")
    if numbered:
        columns = compose(NUMBERED, columns=columns)
    create_work_table(session, table, columns=columns)
    try:
        with session.begin_nested():
            rows = _copy_raw(session, delivery, name, table, len(header.names))
    except UNDECODABLE:
        raise DeliveryRejected("undecodable", f"{name} holds bytes that are not UTF-8") from None
    except psycopg.errors.DataError:
        logger.info("ingest.staging_fallback", file=name)
        session.execute(text(compose(TRUNCATE, table=table)))
        rows = _copy_parsed(session, delivery, name, table, len(header.names), numbered=numbered)
    return Header(header.names, rows=rows)


def _driver(session: Session) -> psycopg.Connection[Any]:
    """The session's own psycopg connection, for COPY (SQLAlchemy types it as Any)."""
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def _copy_raw(session: Session, delivery: Delivery, name: str, table: str, width: int) -> int:
    sql = compose(COPY_CSV, table=table, columns=staged_columns(width))
    with delivery.open(name) as stream, _driver(session).cursor() as cursor:
        with cursor.copy(sql) as copy:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                copy.write(chunk)
        return int(cursor.rowcount)


def _copy_parsed(
    session: Session, delivery: Delivery, name: str, table: str, width: int, *, numbered: bool
) -> int:
    columns = staged_columns(width)
    if numbered:
        columns = compose(NUMBERED_NAMES, columns=columns)
    sql = compose(COPY_ROWS, table=table, columns=columns)
    with delivery.open(name) as stream, _driver(session).cursor() as cursor, cursor.copy(sql) as copy:
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        written = 0
        try:
            next(reader)
            for number, row in enumerate(reader, 1):
                if not row:
                    continue  # a blank line
                cells: list[str | None] = [*row[:width], *[None] * (width - len(row))]
                copy.write_row((number, *cells, len(row) > width) if numbered else cells)
                written += 1
        except UnicodeDecodeError:
            raise DeliveryRejected("undecodable", f"{name} holds bytes that are not UTF-8") from None
        except csv.Error:
            raise DeliveryRejected("malformed_csv", f"{name} is not readable as CSV") from None
    return written
