"""COPY a delivery's CSV file into a temporary staging table, bytes as sent.

The fast path hands the raw bytes to COPY (no Python work per row). Exports that COPY
cannot read as sent (rows with fewer or more fields than the header, mixed line endings)
fall back to Python's csv reader, which pads short rows and flags long ones; undecodable
bytes reject the delivery in both paths.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header, clean_header
from worker.sources.delivery import CHUNK, Delivery
from worker.sources.errors import DeliveryRejected

logger = structlog.get_logger(__name__)

UNDECODABLE = (psycopg.errors.CharacterNotInRepertoire, psycopg.errors.UntranslatableCharacter)


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
    columns = ", ".join(f"c{i} text" for i in range(1, len(header.names) + 1))
    if numbered:
        columns = f"n bigserial, {columns}, extra boolean NOT NULL DEFAULT false"
    create_work_table(session, table, columns=columns)
    try:
        with session.begin_nested():
            rows = _copy_raw(session, delivery, name, table, len(header.names))
    except UNDECODABLE:
        raise DeliveryRejected("undecodable", f"{name} holds bytes that are not UTF-8") from None
    except psycopg.errors.DataError:
        logger.info("ingest.staging_fallback", file=name)
        session.execute(text(f"TRUNCATE {table}"))
        rows = _copy_parsed(session, delivery, name, table, len(header.names), numbered=numbered)
    return Header(header.names, rows=rows)


def _driver(session: Session) -> Any:
    return session.connection().connection.driver_connection


def _copy_raw(session: Session, delivery: Delivery, name: str, table: str, width: int) -> int:
    names = ", ".join(f"c{i}" for i in range(1, width + 1))
    sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"
    with delivery.open(name) as stream, _driver(session).cursor() as cursor:
        with cursor.copy(sql) as copy:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                copy.write(chunk)
        return int(cursor.rowcount)


def _copy_parsed(
    session: Session, delivery: Delivery, name: str, table: str, width: int, *, numbered: bool
) -> int:
    names = ", ".join(f"c{i}" for i in range(1, width + 1))
    sql = f"COPY {table} (n, {names}, extra) FROM STDIN" if numbered else f"COPY {table} ({names}) FROM STDIN"
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
