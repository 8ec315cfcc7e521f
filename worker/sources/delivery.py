"""One SIS delivery on disk: a OneRoster folder, a OneRoster .zip, or a single plain CSV file.

Files are opened as byte streams so the ingest can hand them to COPY without loading them.
"""

from __future__ import annotations

import functools
import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

CHUNK = 1 << 20


@dataclass
class Delivery:
    """The files of one delivery, looked up by name without regard to case or folders in a zip."""

    path: Path
    members: dict[str, str] = field(default_factory=dict)  # lower-case file name -> member name

    @property
    def is_zip(self) -> bool:
        return self.path.is_file() and zipfile.is_zipfile(self.path)

    def has(self, name: str) -> bool:
        return name.lower() in self.members

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        member = self.members[name.lower()]
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive, archive.open(member) as stream:
                yield stream
        else:
            with Path(member).open("rb") as stream:
                yield stream

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


def open_delivery(path: Path) -> Delivery:
    """Index the files of a folder, a zip, or a single CSV file (which is then the only member)."""
    delivery = Delivery(path=path)
    if path.is_dir():
        for item in sorted(path.iterdir()):
            if item.is_file() and item.suffix.lower() == ".csv":
                delivery.members[item.name.lower()] = str(item)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = Path(info.filename).name
                if not info.is_dir() and name.lower().endswith(".csv") and not name.startswith("._"):
                    delivery.members[name.lower()] = info.filename
    elif path.is_file():
        delivery.members[path.name.lower()] = str(path)
    return delivery


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
