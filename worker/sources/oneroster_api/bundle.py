"""A OneRoster CSV bundle written straight into a zip, with the delivery checksum computed on the way.

The checksum is the one `Delivery.checksum` computes (each file's name and bytes, files in name
order), so the files must be written in name order: demographics, manifest, orgs, users.
"""

from __future__ import annotations

import csv
import hashlib
import io
import queue
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from worker.sources.archive import COMPRESS_LEVEL

BUFFER = 1 << 20


class _Tee(io.RawIOBase):
    """Bytes to the zip member and to the digest, on a thread of its own: deflate and sha256 let go
    of the interpreter lock, so they run on another core while the read parses the next page."""

    def __init__(self, member: IO[bytes], digest: Any) -> None:
        self._member = member
        self._digest = digest
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._failed is not None:
            raise self._failed
        chunk = bytes(data)
        self._chunks.put(chunk)
        return len(chunk)

    def finish(self) -> None:
        """Wait until every byte is written (and raise what writing them raised)."""
        self._chunks.put(None)
        self._thread.join()
        if self._failed is not None:
            raise self._failed

    def _drain(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failed is None:
                try:
                    self._digest.update(chunk)
                    self._member.write(chunk)
                except BaseException as error:  # handed to the writing thread
                    self._failed = error


class BundleWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self._digest = hashlib.sha256()
        self._last = ""

    @contextmanager
    def csv_file(self, name: str, header: list[str]) -> Iterator[Any]:
        """A csv writer for member NAME (written after every member whose name sorts before it)."""
        if name <= self._last:
            raise ValueError(f"{name} must be written before {self._last}")
        self._last = name
        self._digest.update(name.encode() + b"\0")
        with self._zip.open(name, "w", force_zip64=True) as member:
            tee = _Tee(member, self._digest)
            text = io.TextIOWrapper(io.BufferedWriter(tee, BUFFER), encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            try:
                yield writer
                text.flush()
                text.detach().flush()
            finally:
                tee.finish()
        self._digest.update(b"\0")

    def close(self) -> str:
        """Finish the zip; the delivery's checksum."""
        self._zip.close()
        return self._digest.hexdigest()

    def abandon(self) -> None:
        self._zip.close()
        self.path.unlink(missing_ok=True)
