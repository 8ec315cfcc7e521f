"""Which bytes COPY is given as they are, and where Python's csv reader takes over."""

from __future__ import annotations

import io

import pytest

from worker.ingest.copy_check import VouchedRecords

HEADER = b"id,name,grade\r\n"
GOOD = b"1,Ana,05\r\n2,Ben,06\r\n"


def vouch(data: bytes, width: int = 3) -> tuple[bytes, bytes, bool]:
    records = VouchedRecords(io.BytesIO(data), width)
    sent = b"".join(records.chunks())
    return sent, records.rest, records.rest_has_header


@pytest.mark.parametrize(
    ("data", "sent", "rest"),
    [
        # plain fields, CRLF as the header ends: all sent, the header not
        (HEADER + GOOD, GOOD, b""),
        # every field quoted, a quoted comma, an escaped quote, a line end inside quotes
        (HEADER + b'"1","Ana","05"\r\n"2","B,en","0""6"\r\n"3","C\r\nx",""\r\n', None, b""),
        # the last record without its line end
        (HEADER + b"1,Ana,05", b"1,Ana,05", b""),
        # a short row: the records before it are sent, the csv reader takes the rest
        (HEADER + b"1,Ana,05\r\n2,Ben\r\n3,Cy,07\r\n", b"1,Ana,05\r\n", b"2,Ben\r\n3,Cy,07\r\n"),
        # a long row
        (HEADER + b"1,Ana,05,x\r\n", b"", b"1,Ana,05,x\r\n"),
        # a line end other than the header's
        (HEADER + b"1,Ana,05\n2,Ben,06\r\n", b"", b"1,Ana,05\n2,Ben,06\r\n"),
        # a quote inside a plain field (COPY and the csv reader read it differently)
        (HEADER + b'1,A"na,05\r\n', b"", b'1,A"na,05\r\n'),
        # a NUL byte
        (HEADER + b"1,Ana,05\r\n2,B\x00en,06\r\n", b"1,Ana,05\r\n", b"2,B\x00en,06\r\n"),
        # bytes that are not UTF-8 (Latin-1)
        (HEADER + b"1,Ana,05\r\n2,Zo\xeb,06\r\n", b"1,Ana,05\r\n", b"2,Zo\xeb,06\r\n"),
        # a quote left open: the rest is the csv reader's
        (HEADER + b'1,"Ana,05\r\n2,Ben,06\r\n', b"", b'1,"Ana,05\r\n2,Ben,06\r\n'),
        # a blank line
        (HEADER + b"1,Ana,05\r\n\r\n2,Ben,06\r\n", b"1,Ana,05\r\n", b"\r\n2,Ben,06\r\n"),
        # `\.` alone on a line would end COPY's input
        (HEADER + b"\\.\r\n1,Ana,05\r\n", b"", b"\\.\r\n1,Ana,05\r\n"),
    ],
)
def test_only_records_copy_reads_as_the_csv_reader_does_are_sent(data, sent, rest):
    expected = data[len(HEADER) :] if sent is None else sent
    assert vouch(data)[:2] == (expected, rest)


def test_a_file_whose_header_cannot_be_read_here_goes_whole_to_the_csv_reader():
    # a one-column file: `\.` alone would be a whole record
    assert vouch(b"id\r\n1\r\n", width=1) == (b"", b"id\r\n1\r\n", True)
    # a header with a quote inside a plain name
    assert vouch(b'id,na"me,grade\r\n' + GOOD) == (b"", b'id,na"me,grade\r\n' + GOOD, True)


def test_a_record_longer_than_a_chunk_is_sent_whole():
    big = b"1," + b"x" * (3 << 20) + b",05\r\n"
    assert vouch(HEADER + big + GOOD)[:2] == (big + GOOD, b"")
