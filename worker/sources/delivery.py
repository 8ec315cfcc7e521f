"""One SIS delivery on disk: a OneRoster folder, a OneRoster .zip, or a single plain CSV file.

Files are opened as byte streams so the ingest can hand them to COPY without loading them.
"""

from __future__ import annotations

import functools
import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from worker.sources.errors import DeliveryRejected
from worker.sources.guard import (
    Limits,
    bounded,
    check_member_name,
    check_total,
    corrupt_zip,
    delivery_limits,
    member_allowance,
    shown,
)

CHUNK = 1 << 20


@dataclass
class Delivery:
    """The files of one delivery, looked up by name without regard to case or folders in a zip."""

    path: Path
    members: dict[str, str] = field(default_factory=dict)  # lower-case file name -> member name
    allowances: dict[str, int] = field(default_factory=dict)  # lower-case file name -> bytes it may give

    @property
    def is_zip(self) -> bool:
        return self.path.is_file() and zipfile.is_zipfile(self.path)

    def has(self, name: str) -> bool:
        return name.lower() in self.members

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """The file's bytes, refused past its allowance (a zip member: as decompressed)."""
        key = name.lower()
        member = self.members[key]
        if self.is_zip:
            with ExitStack() as opened:
                try:
                    archive = opened.enter_context(zipfile.ZipFile(self.path))
                    stream = opened.enter_context(archive.open(member))
                except (zipfile.BadZipFile, zlib.error, EOFError):
                    raise corrupt_zip(key) from None
                yield bounded(stream, key, self.allowances[key])
        else:
            with Path(member).open("rb") as stream:
                yield bounded(stream, key, self.allowances[key])

    def checksum(self) -> str:
        """sha256 over each file's name and bytes in name order: the same content is the same delivery."""
        digest = hashlib.sha256()
        for name in sorted(self.members):
            digest.update(name.encode() + b"\0")
            with self.open(name) as stream:
                for chunk in iter(functools.partial(stream.read, CHUNK), b""):
                    digest.update(chunk)
            digest.update(b"\0")
        return digest.hexdigest()

    def add(self, name: str, member: str, allowance: int) -> None:
        """Index a file; two files that would both be read as NAME refuse the delivery."""
        key = name.lower()
        if key in self.members:
            raise DeliveryRejected(
                "duplicate_member",
                f"the delivery holds {shown(self.members[key])} and {shown(member)}, "
                f"both would be read as {key}",
            )
        self.members[key], self.allowances[key] = member, allowance


def open_delivery(path: Path) -> Delivery:
    """Index the files of a folder, a zip, or a single CSV file (which is then the only member),
    refusing what cannot be read safely (guard.py)."""
    delivery = Delivery(path=path)
    limits = delivery_limits()
    if path.is_dir():
        _index_folder(delivery, path, limits)
    elif zipfile.is_zipfile(path):
        _index_zip(delivery, path, limits)
    elif path.is_file() and _looks_zipped(path):
        raise corrupt_zip(path.name)
    elif path.is_file():
        _check_plain_file(path, limits)
        delivery.add(path.name, str(path), limits.file_bytes)
    check_total(sum(_declared(delivery, name) for name in delivery.members), limits)
    return delivery


def _index_folder(delivery: Delivery, folder: Path, limits: Limits) -> None:
    for item in sorted(folder.iterdir()):
        if item.suffix.lower() != ".csv":
            continue
        if item.is_symlink():
            raise DeliveryRejected("unsafe_member", f"the delivery's file {shown(item.name)} is a link")
        if item.is_file():
            _check_plain_file(item, limits)
            delivery.add(item.name, str(item), limits.file_bytes)


def _index_zip(delivery: Delivery, path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise corrupt_zip(path.name) from None
    for info in infos:
        check_member_name(info)
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if info.is_dir() or not name.lower().endswith(".csv") or _is_resource_fork(info.filename):
            continue
        delivery.add(name, info.filename, member_allowance(info, limits))


def _is_resource_fork(member: str) -> bool:
    """macOS's copies of each file's metadata (`__MACOSX/._users.csv`), which are not CSV."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return parts[-1].startswith("._") or "__MACOSX" in parts


def _looks_zipped(path: Path) -> bool:
    with path.open("rb") as stream:
        return path.suffix.lower() == ".zip" or stream.read(4) == b"PK\x03\x04"


def _check_plain_file(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise DeliveryRejected(
            "too_large",
            f"{shown(path.name)} has {size} bytes (limit {limits.file_bytes}, DELIVERY_MAX_FILE_BYTES)",
        )


def _declared(delivery: Delivery, name: str) -> int:
    """A file's size as its zip declares it or the file system says."""
    if delivery.is_zip:
        return delivery.allowances[name]
    return Path(delivery.members[name]).stat().st_size


def raw_checksum(path: Path) -> str:
    """sha256 of a delivery's bytes as they lie on disk (a folder: its files' names and sizes),
    for one that cannot be opened as a delivery."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as stream:
            for chunk in iter(functools.partial(stream.read, CHUNK), b""):
                digest.update(chunk)
    else:
        for item in sorted(path.iterdir()):
            digest.update(f"{item.name}\0{item.lstat().st_size}\0".encode())
    return digest.hexdigest()


def format_of(path: Path) -> Literal["oneroster", "csv"]:
    """A delivery's format when no configured source says: a lone .csv file is a plain CSV."""
    return "csv" if path.is_file() and path.suffix.lower() == ".csv" else "oneroster"


def is_delivery(path: Path, fmt: str) -> bool:
    """What an inbox listing counts as one delivery for a source of this format."""
    if fmt == "csv":
        return path.is_file() and path.suffix.lower() == ".csv"
    if path.is_dir():
        return (path / "manifest.csv").is_file() or any(
            p.name.lower() == "manifest.csv" for p in path.iterdir()
        )
    return path.is_file() and path.suffix.lower() == ".zip"
