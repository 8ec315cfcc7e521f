"""What a delivery may hold before a byte of it is read: safe member names, no links, no two
files taken for one, sizes within the limits; and a reader that holds each file to its size
while it streams, so a zip bomb stops after its allowance, in constant memory.

A zip's central directory declares each member's sizes; they are checked first (free), and the
reader counts again while decompressing, as a member may lie about them.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from config.settings import get_settings
from worker.sources.errors import DeliveryRejected

# a member this small is not held to the ratio (a short file of repeated text compresses well)
RATIO_FLOOR = 1 << 20
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
SHOWN_NAME = 120  # characters of a member's name a reason quotes


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    total_bytes: int
    ratio: int


def delivery_limits() -> Limits:
    settings = get_settings()
    return Limits(
        settings.delivery_max_file_bytes, settings.delivery_max_total_bytes, settings.delivery_max_ratio
    )


def shown(name: str) -> str:
    """A member's name as a reason quotes it: printable, and cut short."""
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return repr(printable[:SHOWN_NAME] + ("..." if len(printable) > SHOWN_NAME else ""))


def check_member_name(info: zipfile.ZipInfo) -> None:
    """Refuse a member that climbs out of the bundle, is absolute, is a link, or cannot be read."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DeliveryRejected("unsafe_member", f"the zip member {shown(info.filename)} is an absolute path")
    if ".." in PurePosixPath(name).parts:
        raise DeliveryRejected("unsafe_member", f"the zip member {shown(info.filename)} climbs out with ..")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DeliveryRejected("unsafe_member", f"the zip member {shown(info.filename)} is a link")
    if info.flag_bits & 0x1:
        raise DeliveryRejected("unreadable_member", f"the zip member {shown(info.filename)} is encrypted")
    if info.compress_type not in READABLE_METHODS:
        raise DeliveryRejected(
            "unreadable_member",
            f"the zip member {shown(info.filename)} uses a compression other than deflate",
        )


def member_allowance(info: zipfile.ZipInfo, limits: Limits) -> int:
    """The bytes a member may decompress to; refused at once when its declared size is over it."""
    declared = info.file_size
    if declared > limits.file_bytes:
        raise DeliveryRejected(
            "too_large",
            f"the zip member {shown(info.filename)} decompresses to {declared} bytes "
            f"(limit {limits.file_bytes}, DELIVERY_MAX_FILE_BYTES)",
        )
    if declared > RATIO_FLOOR and declared > limits.ratio * max(info.compress_size, 1):
        raise DeliveryRejected(
            "too_compressed",
            f"the zip member {shown(info.filename)} grows {declared // max(info.compress_size, 1)} times "
            f"its compressed size (limit {limits.ratio}, DELIVERY_MAX_RATIO)",
        )
    # zipfile stops a member's output at its declared size (a longer stream fails its CRC)
    return declared


def check_total(total: int, limits: Limits) -> None:
    if total > limits.total_bytes:
        raise DeliveryRejected(
            "too_large",
            f"the delivery's files come to {total} bytes (limit {limits.total_bytes}, "
            "DELIVERY_MAX_TOTAL_BYTES)",
        )


def corrupt_zip(name: str) -> DeliveryRejected:
    return DeliveryRejected("corrupt_zip", f"{shown(name)} cannot be read: the zip is truncated or corrupt")


class BoundedReader(io.RawIOBase):
    """A file's bytes, refused once more than ALLOWANCE of them come out; a damaged zip stream is
    reported as such."""

    def __init__(self, stream: IO[bytes], name: str, allowance: int) -> None:
        self._stream, self._name, self._left = stream, name, allowance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._stream.read(min(len(buffer), self._left + 1))
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise corrupt_zip(self._name) from None
        if len(data) > self._left:
            raise DeliveryRejected(
                "too_large", f"{self._name} holds more bytes than the limits or its declared size allow"
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def bounded(stream: IO[bytes], name: str, allowance: int) -> io.BufferedReader:
    return io.BufferedReader(BoundedReader(stream, name, allowance), buffer_size=1 << 16)
