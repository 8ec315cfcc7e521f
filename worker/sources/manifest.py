"""OneRoster manifest.csv: which version, and which files the delivery carries as bulk or delta."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from worker.sources.delivery import Delivery
from worker.sources.errors import DeliveryRejected

VERSIONS = {"1.0": "1.1", "1.1": "1.1", "1.2": "1.2"}  # 1.0 reads like 1.1 for students
MODES = {"bulk", "delta", "absent", ""}


@dataclass(frozen=True)
class Manifest:
    version: str  # "1.1" or "1.2"
    files: dict[str, str]  # lower-case file stem ("users") -> "bulk" | "delta"

    def mode(self, stem: str) -> str | None:
        return self.files.get(stem.lower())


def read_manifest(delivery: Delivery) -> Manifest:
    """Parse manifest.csv; a delivery without one, or naming a file it lacks, is rejected whole."""
    if not delivery.has("manifest.csv"):
        raise DeliveryRejected("manifest_missing", "the bundle has no manifest.csv")
    properties = _properties(delivery)
    version = VERSIONS.get(properties.get("oneroster.version", ""))
    if version is None:
        raise DeliveryRejected(
            "unsupported_version", "manifest.csv names no OneRoster version 1.0, 1.1 or 1.2"
        )
    files: dict[str, str] = {}
    for key, value in properties.items():
        if key.startswith("file.") and value.lower() in ("bulk", "delta"):
            stem = key[len("file.") :].lower()
            if not delivery.has(f"{stem}.csv"):
                raise DeliveryRejected(
                    "manifest_file_missing", f"manifest.csv names {stem}.csv but it is missing"
                )
            files[stem] = value.lower()
    return Manifest(version=version, files=files)


def _properties(delivery: Delivery) -> dict[str, str]:
    with delivery.open("manifest.csv") as stream:
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DeliveryRejected("undecodable", "manifest.csv is not UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    return {r[0].strip(): r[1].strip() for r in rows[1:] if len(r) >= 2 and r[0].strip()}
