"""Hostile and broken deliveries, each with the outcome it must have: refused whole with a reason
naming the file or member (nothing applied), or applied with its bad rows quarantined. Around
each, the database server's own log is read: none of the planted student's name, ids or birth
date may appear in it."""

from __future__ import annotations

import secrets
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models import QuarantinedRow, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import student, students, write_oneroster
from tests.integration.ingest_support import DISTRICT, ingest
from tests.integration.server_log import ServerLog, find_server_log

# the planted student: values no log line of any other test has
GIVEN = "Quorv" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
FAMILY = "Brast" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
SSID = "5" + "".join(secrets.choice("0123456789") for _ in range(9))
OTHER_ID = "8" + "".join(secrets.choice("0123456789") for _ in range(7))
BIRTH = f"20{secrets.choice(range(10, 15))}-0{secrets.choice(range(1, 10))}-1{secrets.choice(range(0, 10))}"
PLANTED = (GIVEN, FAMILY, SSID, OTHER_ID, BIRTH)

pytestmark = pytest.mark.usefixtures("settings_restored")


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: tuple[str, ...] = ()  # rejected: what the reason must hold
    inserted: int | None = None
    quarantined: tuple[tuple[str, str], ...] = ()  # (reason code, detail), sorted


def rejected(*words: str) -> Outcome:
    return Outcome("rejected", reason=words)


def applied(inserted: int, *quarantined: tuple[str, str]) -> Outcome:
    return Outcome("applied", inserted=inserted, quarantined=tuple(sorted(quarantined)))


def planted_row(**fields: str) -> dict[str, str]:
    return student(
        "stu-p", ssid=SSID, other_id=OTHER_ID, **{"givenName": GIVEN, "familyName": FAMILY, **fields}
    )


def bundle(folder: Path, *extra: dict[str, str], birth: str = BIRTH) -> Path:
    """Three good students and the planted one (with a birth date), plus EXTRA rows."""
    return write_oneroster(folder, [*students(3), planted_row(), *extra], birth_dates={"stu-p": birth})


def edit_users(folder: Path, change: Callable[[bytes], bytes]) -> Path:
    users = folder / "users.csv"
    users.write_bytes(change(users.read_bytes()))
    return folder


def planted_line(data: bytes) -> bytes:
    return next(line for line in data.splitlines() if line.startswith(b"stu-p,"))


def in_planted_line(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(planted_line(data), change(planted_line(data)))


def zipped(folder: Path, *extra: tuple[str | zipfile.ZipInfo, bytes]) -> Path:
    target = folder.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(folder.iterdir()):
            archive.write(item, item.name)
        for name, data in extra:
            archive.writestr(name, data)
    return target


def link_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def lying_size(path: Path) -> Path:
    """users.csv's sizes (local header and directory) say 100 bytes; it holds thousands."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("users.csv")
    local = info.header_offset
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + 9] != b"users.csv":
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def truncated(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def damaged_member(path: Path) -> Path:
    """users.csv's compressed bytes overwritten in the middle; the directory still reads."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("users.csv")
    start = info.header_offset + 30 + len(info.filename) + info.compress_size // 3
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    return path


def member(name: str | zipfile.ZipInfo, data: bytes) -> Callable[[Path], Path]:
    """The bundle zipped, with one more member."""
    return lambda f: zipped(bundle(f), (name, data))


def users(change: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """The bundle, its users.csv changed."""
    return lambda f: edit_users(bundle(f), change)


def planted(old: bytes, new: bytes) -> Callable[[Path], Path]:
    """The bundle, the planted student's line changed."""
    return users(in_planted_line(lambda line: line.replace(old, new)))


def more(*rows: dict[str, str], **options: str) -> Callable[[Path], Path]:
    return lambda f: bundle(f, *rows, **options)


LONG = 3000
MB = 1 << 20
NOT_SSID = ("ssid_pattern", "SSID does not match the configured pattern")
BAD_DATE = ("bad_date", "birthDate is not a valid yyyy-mm-dd date")
RATIO = "DELIVERY_MAX_RATIO"
# (case, build the delivery in a folder, the outcome it must have)
CORPUS: list[tuple[str, Callable[[Path], Path], Outcome]] = [
    # zip members that climb out, are absolute, are links, or two read as one file
    ("member with ..", member("../evil.csv", b"a,b\n"), rejected("'../evil.csv'", "..")),
    ("absolute member", member("/tmp/evil.csv", b"a,b\n"), rejected("'/tmp/evil.csv'", "absolute")),
    ("link member", member(link_member("x.csv"), b"/etc/passwd"), rejected("'x.csv'", "link")),
    ("decoy users.csv", member("decoy/users.csv", b"a,b\n"), rejected("'users.csv'", "'decoy/users.csv'")),
    ("users.csv in another case", member("USERS.CSV", b"a,b\n"), rejected("'USERS.CSV'", "users.csv")),
    # broken zips
    ("truncated zip", lambda f: truncated(zipped(bundle(f))), rejected("truncated or corrupt")),
    ("damaged member", lambda f: damaged_member(zipped(bundle(f, *students(400, start=3)))),
     rejected("'users.csv'", "corrupt")),
    ("member longer than it says", lambda f: lying_size(zipped(bundle(f))), rejected("users.csv", "corrupt")),
    # bombs: far more decompressed than compressed
    ("NUL bomb", member("enrollments.csv", bytes(16 * MB)), rejected("'enrollments.csv'", RATIO)),
    ("empty-rows bomb", member("classes.csv", b",,,,\n" * 4 * MB), rejected("'classes.csv'", RATIO)),
    # files
    ("empty users file", users(lambda d: b""), rejected("users.csv is empty")),
    ("header only", users(lambda d: d.splitlines(keepends=True)[0]), rejected("a header but no rows")),
    ("BOM", users(lambda d: b"\xef\xbb\xbf" + d), applied(4)),
    ("LF line ends", users(lambda d: d.replace(b"\r\n", b"\n")), applied(4)),
    ("CRLF line ends", users(lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")), applied(4)),
    ("mixed line ends", users(lambda d: d.replace(b"\r\n", b"\n", 2)), applied(4)),
    ("NUL byte in a name", planted(b"Quorv", b"Qu\0orv"), rejected("users.csv", "NUL")),
    ("Latin-1 name", planted(b"Quorv", b"Qu\xebrv"), rejected("users.csv", "not UTF-8")),
    ("short row", users(in_planted_line(lambda line: line.rsplit(b",", 3)[0])), applied(4)),
    ("long row", planted(b"Quorv", b"Quorv,surplus"),
     applied(3, ("wrong_field_count", "the row has more fields than the header"))),
    ("unbalanced quote", planted(b",Quorv", b',"Quorv'),  # the rest of the line is one field
     applied(3, ("missing_required", "familyName is empty"))),
    ("1 MB field nothing reads", more(student("stu-big", sms="x" * MB)), applied(5)),
    ("1 MB family name", more(student("stu-big", familyName="x" * MB)),
     applied(4, ("value_too_long", "familyName is longer than 200 characters"))),
    ("3,000-character names", more(planted_row(familyName="B" * LONG, givenName="Q" * LONG, sourcedId="q")),
     applied(4, ("value_too_long", "givenName is longer than 200 characters"))),
    ("3,000-character sourcedId", more(student("s" * LONG)),
     applied(4, ("value_too_long", "sourcedId is longer than 255 characters"))),
    ("duplicate ids", more(planted_row(givenName="Other")),
     applied(3, *[("duplicate_sourced_id", "sourcedId appears on several rows")] * 2)),
    ("impossible date", more(birth=BIRTH[:5] + "02-30"), applied(3, BAD_DATE)),
    ("SSID with letters", more(student("stu-l", ssid="50000A0001")), applied(4, NOT_SSID)),
    ("SSID with a space", more(student("stu-s", ssid="50000 00001")), applied(4, NOT_SSID)),
    ("Other ID with letters and spaces", more(student("stu-o", other_id=" AB 123 ")), applied(5)),
]  # fmt: skip


@pytest.fixture(scope="module")
def server_log(engine: Engine) -> ServerLog:
    found = find_server_log(engine)
    if found is None:
        pytest.skip("this process cannot read the database server's log (docs/ingest.md, 'The server's log')")
    return found


def quarantined(engine: Engine) -> tuple[tuple[str, str], ...]:
    with transaction(engine) as session:
        rows = session.execute(select(QuarantinedRow.reason_code, QuarantinedRow.detail)).all()
    return tuple(sorted((r.reason_code, r.detail or "") for r in rows))


def stored(engine: Engine) -> int:
    with transaction(engine) as session:
        return len(session.execute(select(Student.id).where(Student.district_id == DISTRICT)).all())


@pytest.mark.parametrize(("build", "expected"), [(b, e) for _, b, e in CORPUS], ids=[c for c, _, _ in CORPUS])
def test_a_hostile_delivery_has_its_outcome_and_the_server_logs_no_student_data(
    committed_engine, server_log, tmp_path, build, expected
):
    offset = server_log.size()

    result = ingest(committed_engine, build(tmp_path / "delivery"))

    assert str(result.status) == expected.status, result.reason
    if expected.status == "rejected":
        assert [part for part in expected.reason if part not in (result.reason or "")] == [], result.reason
        assert stored(committed_engine) == 0
    else:
        assert result.counts["inserted"] == expected.inserted
        assert quarantined(committed_engine) == expected.quarantined
    logged = server_log.since(offset)
    assert [value for value in PLANTED if value in logged] == []
