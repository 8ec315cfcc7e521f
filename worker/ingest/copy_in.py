"""COPY a delivery's CSV file into a working table (columns c1..cN), bytes as sent.

The fast path hands the raw bytes to COPY (no Python work per row), each chunk vouched for
first (copy_check.py), so COPY never refuses a row and the server never logs one. From the
first record that cannot be vouched for (a row with fewer or more fields than the header, a
stray quote, mixed line endings), Python's csv reader takes the rest of the file, pads short
rows and flags long ones. Bytes that are not UTF-8, and NUL bytes, reject the delivery in both
paths, before they are sent. Empty fields are NULL in both, quoted or not, so a row reads the
same values whichever path took it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

import psycopg
import structlog
from sqlalchemy.orm import Session

from worker.ingest.copy_check import RECORD_LIMIT, VouchedRecords
from worker.ingest.steps import at_step
from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header, clean_header
from worker.sources.delivery import CHUNK, Delivery
from worker.sources.errors import DeliveryRejected
from worker.sql import compose

logger = structlog.get_logger(__name__)

# the csv reader's own limit on a field (128 KiB) would refuse a field COPY takes; a record
# longer than RECORD_LIMIT is refused as a whole instead
csv.field_size_limit(max(csv.field_size_limit(), RECORD_LIMIT))
HEADER_LIMIT = 1 << 20  # bytes of a file its header line must end within

# the users file's table also numbers its records and flags one with more fields than the header
NUMBERED = "n bigserial, {columns}, extra boolean NOT NULL DEFAULT false"
NUMBERED_NAMES = "n, {columns}, extra"
# the fast path: vouched records as sent (the header is not sent); empty fields NULL, quoted or not
COPY_CSV = "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8', FORCE_NULL ({columns}))"
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
        head = stream.read(HEADER_LIMIT)
    if len(head) == HEADER_LIMIT and b"\n" not in head:
        raise DeliveryRejected("malformed_csv", f"{name}'s header line is longer than {HEADER_LIMIT} bytes")
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(head), encoding="utf-8-sig", newline=""))
    try:
        names = clean_header(next(reader))
    except StopIteration:
        raise DeliveryRejected("empty_file", f"{name} is empty (no header line)") from None
    except UnicodeDecodeError:
        raise DeliveryRejected("undecodable", f"{name} is not UTF-8") from None
    except csv.Error:
        raise DeliveryRejected("malformed_csv", f"{name}'s header line is not readable as CSV") from None
    if not names:
        raise DeliveryRejected("empty_file", f"{name} has an empty header line")
    if "\x00" in "".join(names):
        raise DeliveryRejected("undecodable", f"{name}'s header line holds NUL bytes")
    return Header(names)


def stage_file(
    session: Session, delivery: Delivery, name: str, table: str, *, numbered: bool = False
) -> Header:
    """Create TABLE (c1..cN; when NUMBERED also n = record number after the header and extra = the
    record had more fields than the header) and fill it from file NAME; the header returned knows
    how many records it staged. Only the users file is numbered: numbering costs a fifth of COPY."""
    at_step(f"staging {name}")
    header = read_header(delivery, name)
    width = len(header.names)
    columns = staged_columns(width, kind="text")
    if numbered:
        columns = compose(NUMBERED, columns=columns)
    create_work_table(session, table, columns=columns)
    with delivery.open(name) as stream:
        records = VouchedRecords(stream, width)
        rows = _copy_raw(session, records, table, width)
        if records.stopped:
            logger.info("ingest.staging_fallback", file=name, rows_copied=rows)
            rest = io.BufferedReader(_Joined(records.rest, stream), CHUNK)
            rows += _copy_parsed(
                session,
                rest,
                name,
                table,
                width,
                numbered=numbered,
                after=rows,
                skip_header=records.rest_has_header,
            )
    return Header(header.names, rows=rows)


def _driver(session: Session) -> psycopg.Connection[Any]:
    """The session's own psycopg connection, for COPY (SQLAlchemy types it as Any)."""
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def _copy_raw(session: Session, records: VouchedRecords, table: str, width: int) -> int:
    sql = compose(COPY_CSV, table=table, columns=staged_columns(width))
    with _driver(session).cursor() as cursor:
        with cursor.copy(sql) as copy:
            for chunk in records.chunks():
                copy.write(chunk)
        return max(int(cursor.rowcount), 0)


class _Unreadable(Exception):
    """What stops the fallback: the reason the delivery is refused, raised once COPY has ended."""

    def __init__(self, rejected: DeliveryRejected) -> None:
        self.rejected = rejected


def _copy_parsed(
    session: Session,
    stream: IO[bytes],
    name: str,
    table: str,
    width: int,
    *,
    numbered: bool,
    after: int,
    skip_header: bool,
) -> int:
    """Records AFTER onwards, parsed; a reason to refuse the file ends COPY cleanly (nothing
    refused is ever sent) and is raised after it."""
    columns = staged_columns(width)
    if numbered:
        columns = compose(NUMBERED_NAMES, columns=columns)
    sql = compose(COPY_ROWS, table=table, columns=columns)
    written, problem = 0, None
    with _driver(session).cursor() as cursor, cursor.copy(sql) as copy:
        try:
            for number, row in _parsed_rows(stream, name, after, skip_header):
                cells: list[str | None] = [c or None for c in row[:width]]
                cells += [None] * (width - len(cells))
                copy.write_row((number, *cells, len(row) > width) if numbered else cells)
                written += 1
        except _Unreadable as unreadable:
            problem = unreadable.rejected
    if problem is not None:
        raise problem
    return written


def _parsed_rows(
    stream: IO[bytes], name: str, after: int, skip_header: bool
) -> Iterator[tuple[int, list[str]]]:
    """(record number, fields) of each non-blank record; NUL bytes, bytes that are not UTF-8 and
    text the csv reader refuses stop it with the record's number."""
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    number = after
    try:
        if skip_header:
            next(reader, None)
        for row in reader:
            number += 1
            if any("\x00" in cell for cell in row):
                raise _Unreadable(
                    DeliveryRejected("undecodable", f"{name} holds NUL bytes (record {number})")
                )
            if row:  # a blank line is no record of ours
                yield number, row
    except UnicodeDecodeError:
        raise _Unreadable(
            DeliveryRejected("undecodable", f"{name} holds bytes that are not UTF-8 (after record {number})")
        ) from None
    except csv.Error:
        raise _Unreadable(
            DeliveryRejected("malformed_csv", f"{name} is not readable as CSV (after record {number})")
        ) from None


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of the stream."""

    def __init__(self, first: bytes, then: IO[bytes]) -> None:
        self._first, self._then = memoryview(first), then

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._first:
            size = min(len(buffer), len(self._first))
            buffer[:size], self._first = self._first[:size], self._first[size:]
            return size
        data = self._then.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
