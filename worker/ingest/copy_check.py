"""Which bytes of a CSV file COPY may be given as they are: whole records of exactly the header's
width, UTF-8 without NUL bytes, each field plain or quoted (the grammar in which COPY and
Python's csv reader read the same values), every record ending as the header does.

COPY must never see a byte it would refuse: the server's log would quote the refused row
(names, ids) in its CONTEXT line. So records are vouched for before they are sent; from the
first record that cannot be, the rest of the file is left to Python's csv reader (copy_in.py).
A file whose fields are all plain, or all quoted, is checked at the speed of bytes.translate
and bytes.count; any other quoting sends its chunk through a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from worker.sources.delivery import CHUNK

# a record longer than this is not vouched for (Python's csv reader takes it, or refuses it)
RECORD_LIMIT = 16 << 20

UNQUOTED = rb'[^,"\r\n\x00]*'
QUOTED = rb'"[^"\x00]*(?:""[^"\x00]*)*"'
FIELD = rb"(?:" + QUOTED + rb"|" + UNQUOTED + rb")"
ANY_RECORD = re.compile(FIELD + rb"(?:," + FIELD + rb")*(\r?\n)")
# what a record keeps once every other byte is deleted: its commas, quotes and line end
STRUCTURE = b',"\r\n'
NOT_STRUCTURE = bytes(b for b in range(256) if b not in STRUCTURE)


@lru_cache(maxsize=16)
def records_pattern(width: int, eol: bytes) -> re.Pattern[bytes]:
    """Any number of whole records of WIDTH fields, each ending with EOL."""
    record = FIELD + (rb"," + FIELD) * (width - 1) + re.escape(eol)
    return re.compile(rb"(?:" + record + rb")*")


@dataclass
class VouchedRecords:
    """Reads STREAM once: `chunks()` gives the header-less bytes COPY may read; `rest` is then what
    it could not vouch for (from a record's start, or the whole file with its header), followed
    by everything not yet read."""

    stream: IO[bytes]
    width: int
    rest: bytes = b""
    rest_has_header: bool = False
    stopped: bool = False
    _eol: bytes = b"\n"

    def chunks(self) -> Iterator[bytes]:
        buffer, header_done = b"", False
        for chunk in iter(lambda: self.stream.read(CHUNK), b""):
            buffer += chunk
            if not header_done:
                end = self._header_end(buffer)
                if end is None:
                    continue
                if end < 0 or self.width < 2:
                    self._stop(buffer, header=True)
                    return
                buffer, header_done = buffer[end:], True
            sent, bad = self._vouched(buffer)
            if sent:
                yield buffer[:sent]
                buffer = buffer[sent:]
            if bad or len(buffer) > RECORD_LIMIT:
                self._stop(buffer)
                return
        if not header_done or (buffer and not self._whole_last_record(buffer)):
            self._stop(buffer, header=not header_done)
        elif buffer:
            yield buffer

    def _stop(self, unsent: bytes, header: bool = False) -> None:
        self.rest, self.rest_has_header, self.stopped = unsent, header, True

    def _header_end(self, buffer: bytes) -> int | None:
        """Where the header record ends (None: not yet read whole; -1: it cannot be read here). Its
        line end is the file's."""
        match = ANY_RECORD.match(buffer)
        if match is not None:
            self._eol = match.group(1)
            return match.end()
        return -1 if _whole_but_bad(buffer, 0) or len(buffer) > CHUNK else None

    def _whole_last_record(self, buffer: bytes) -> bool:
        """The file's last record, which has no line end, is good."""
        whole = buffer + self._eol
        return self._vouched(whole)[0] == len(whole)

    def _vouched(self, buffer: bytes) -> tuple[int, bool]:
        """(bytes of whole good records at the start of BUFFER, whether the next record is bad)."""
        cut = buffer.rfind(self._eol)
        if cut < 0:
            return 0, False
        part = buffer[: cut + len(self._eol)]
        if b"\x00" not in part and self._plain_or_all_quoted(part):
            return _decodable(part, self._pattern), False
        good = _decodable(part[: _records_end(self._pattern, part, len(part))], self._pattern)
        return good, good < len(part) and self._next_is_bad(buffer, good)

    def _plain_or_all_quoted(self, part: bytes) -> bool:
        """PART's records (whole, as it ends with a line end) have the header's width, and either no
        field is quoted or every field is, with no quote, comma or line end inside."""
        skeleton = part.translate(None, NOT_STRUCTURE)
        quoted = b'"' in skeleton
        field = b'""' if quoted else b""
        unit = (field + b",") * (self.width - 1) + field + self._eol
        records = len(skeleton) // len(unit)
        if skeleton != unit * records or len(skeleton) % len(unit):
            return False
        if not quoted:
            return True
        # each quote opens a field (after a comma or a line end) or closes one (before either)
        opened = part.count(b',"') + part.count(b'\n"') + part.startswith(b'"')
        closed = part.count(b'",') + part.count(b'"' + self._eol)
        return opened == closed == records * self.width

    @property
    def _pattern(self) -> re.Pattern[bytes]:
        return records_pattern(self.width, self._eol)

    def _next_is_bad(self, buffer: bytes, start: int) -> bool:
        """The record at START is whole and still not vouched for: a wrong width, a stray quote, a
        NUL byte, another line end, bytes that are not UTF-8. One whose quoted field runs past the
        buffer may yet be good, unless it has run on for a chunk already (a quote left open)."""
        return (
            ANY_RECORD.match(buffer, start) is not None
            or len(buffer) - start > CHUNK
            or _whole_but_bad(buffer, start)
        )


def _whole_but_bad(buffer: bytes, start: int) -> bool:
    """The line at START is whole, and not a quoted field running on: it does not read as a record."""
    line_end = buffer.find(b"\n", start)
    return line_end >= 0 and buffer.count(b'"', start, line_end) % 2 == 0


def _decodable(records: bytes, pattern: re.Pattern[bytes]) -> int:
    """The length of the longest run of whole RECORDS that is valid UTF-8."""
    if records.isascii():
        return len(records)
    try:
        records.decode("utf-8")
    except UnicodeDecodeError as error:
        return _records_end(pattern, records, error.start)
    return len(records)


def _records_end(pattern: re.Pattern[bytes], data: bytes, end: int) -> int:
    """Where the whole records PATTERN reads from the start of DATA[:END] stop."""
    match = pattern.match(data, 0, end)
    return match.end() if match else 0
