"""Read a OneRoster API source into one delivery: a OneRoster CSV bundle, zipped, ready to register.

Bulk reads every student; a delta asks for what changed since the watermark (less an overlap, so
records stamped just before it and committed late are not lost), `tobedeleted` rows included.
Pages stream into the bundle, so memory does not grow with the district; what the read keeps is
one 8-byte hash per record, to see a record come twice.

A read is checked before it becomes a delivery. A total that moves, a record seen twice, or more
records than promised mean the data changed under the read: it is read again, up to
`read_attempts` times. Fewer records than `X-Total-Count` promised, every time, is an incomplete
read: it is registered as a rejected batch (never applied: a bulk missing records would
deactivate them), with what was received archived for ops to look at.
"""

from __future__ import annotations

import csv
import gc
import io
import time
import uuid
import zipfile
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import structlog

from config.collector import collector_paused
from config.settings import SourceConfig
from config.sources import OneRosterApiConfig
from worker.sources.errors import SourceUnavailable
from worker.sources.oneroster_api import records as rec
from worker.sources.oneroster_api.bundle import BundleWriter
from worker.sources.oneroster_api.paging import CollectionTally, DataChanged, Page, read_collection
from worker.sources.oneroster_api.session import ApiSession

logger = structlog.get_logger(__name__)

Mode = Literal["bulk", "delta"]
COLLECT_EVERY_PAGES = 25
BUCKETS = 256


@dataclass(frozen=True)
class ReadPlan:
    mode: Mode
    watermark: datetime | None  # a delta reads what changed since this, less the overlap


@dataclass
class ApiDelivery:
    path: Path
    checksum: str
    provenance: dict[str, Any]
    incomplete: str | None = None  # why the read is refused, when it is


@dataclass
class _Read:
    """One attempt's bookkeeping."""

    plan: ReadPlan
    tallies: dict[str, CollectionTally] = field(default_factory=dict)
    newest: datetime | None = None
    _last_stamp: str = ""
    # one 8-byte hash per student, in buckets by its low byte, so they are checked bucket by bucket
    student_ids: list[array[int]] = field(default_factory=lambda: [array("q") for _ in range(BUCKETS)])

    def remember(self, hashes: list[int]) -> None:
        buckets = self.student_ids
        for value in hashes:
            buckets[value & (BUCKETS - 1)].append(value)

    changed_demographics: set[str] = field(default_factory=set)
    fetched_one_by_one: int = 0
    rows: int = 0  # students and demographics rows written

    def stamp(self, value: Any) -> None:
        """Keep the newest dateLastModified seen (the server's clock gives the watermark)."""
        if not isinstance(value, str) or value == self._last_stamp:
            return
        self._last_stamp = value
        when = parse_time(value)
        if when is not None and (self.newest is None or when > self.newest):
            self.newest = when


def read_api_source(source: SourceConfig, plan: ReadPlan, folder: Path) -> ApiDelivery | None:
    """The delivery this read makes (in FOLDER), or None for a delta with nothing changed."""
    config = _config(source)
    started = time.monotonic()
    attempts = config.read_attempts
    for attempt in range(1, attempts + 1):
        try:
            delivery = _read_once(source, config, plan, folder)
        except DataChanged as changed:
            logger.warning("oneroster_api.data_changed_during_read", source=source.name, attempt=attempt)
            if attempt == attempts:
                raise SourceUnavailable(
                    "data_changing", f"the server's data kept changing during {attempts} reads ({changed})"
                ) from None
            continue
        if delivery is None:
            return None
        delivery.provenance |= {"attempts": attempt, "seconds": round(time.monotonic() - started, 1)}
        if delivery.incomplete and attempt < attempts:
            logger.warning("oneroster_api.incomplete_read_retried", source=source.name, attempt=attempt)
            delivery.path.unlink(missing_ok=True)
            continue
        return delivery
    raise AssertionError("unreachable")


def _collected(pages: Iterator[Page]) -> Iterator[Page]:
    """PAGES, with the cycle collector run now and then (the HTTP responses do form cycles)."""
    for number, page in enumerate(pages, 1):
        if number % COLLECT_EVERY_PAGES == 0:
            gc.collect()
        yield page


def _config(source: SourceConfig) -> OneRosterApiConfig:
    if source.api is None:
        raise ValueError(f"source {source.name} has no api settings")
    return source.api


def _read_once(
    source: SourceConfig, config: OneRosterApiConfig, plan: ReadPlan, folder: Path
) -> ApiDelivery | None:
    read = _Read(plan)
    path = folder / f"api-{uuid.uuid4().hex}.zip"
    bundle = BundleWriter(path)
    try:
        # pages are trees of short-lived dicts with no cycles: the cycle collector, walking millions
        # of them as they come and go, would cost about as much as parsing them; it is paused for
        # the read and run every few pages instead (_collected)
        with ApiSession(config) as http, collector_paused():
            _write_bundle(bundle, http, source, config, read)
            requests = {"requests": http.requests, "retries": http.retries, "tokens": http.tokens_fetched}
        checksum = bundle.close()
    except BaseException:
        bundle.abandon()
        raise
    if plan.mode == "delta" and read.rows == 0:
        path.unlink(missing_ok=True)
        return None
    try:
        _check_ids_once(read, path)
        incomplete = _incomplete(read)
    except DataChanged:
        path.unlink(missing_ok=True)
        raise
    return ApiDelivery(path, checksum, _provenance(source, config, read, requests), incomplete)


def _write_bundle(
    bundle: BundleWriter, http: ApiSession, source: SourceConfig, config: OneRosterApiConfig, read: _Read
) -> None:
    """demographics, manifest, orgs, users: the files in name order (the checksum's order)."""
    if config.read_demographics:
        with bundle.csv_file("demographics.csv", rec.DEMOGRAPHICS) as out:
            _read_demographics(http, config, read, out)
    with bundle.csv_file("manifest.csv", ["propertyName", "value"]) as out:
        for row in _manifest(read.plan.mode, config.read_demographics):
            out.writerow(row)
    with bundle.csv_file("orgs.csv", rec.ORGS) as out:
        tally = read.tallies.setdefault("orgs", CollectionTally())
        for page in read_collection(http, f"{config.base_url}/orgs", "orgs", _sorted(config), tally):
            for org in page.records:
                org_row = rec.org_row(org)
                if org_row is not None:
                    out.writerow(org_row)
    extra: list[str] = extra_columns(source)
    with bundle.csv_file("users.csv", rec.users_header(extra)) as out:
        _read_students(http, config, read, out, extra)


def _read_demographics(http: ApiSession, config: OneRosterApiConfig, read: _Read, out: Any) -> None:
    tally = read.tallies.setdefault("demographics", CollectionTally())
    url = f"{config.base_url}/demographics"
    for page in _collected(read_collection(http, url, "demographics", _params(config, read.plan), tally)):
        # a page at a time, in comprehensions: a million records make per-record calls count
        rows = [row for row in map(rec.demographics_row, page.records) if row is not None]
        out.writerows(rows)
        read.rows += len(rows)
        for stamp in {row[2] for row in rows}:
            read.stamp(stamp)
        if read.plan.mode == "delta":
            read.changed_demographics.update(row[0] for row in rows)


def _read_students(
    http: ApiSession, config: OneRosterApiConfig, read: _Read, out: Any, extra: list[str]
) -> None:
    tally = read.tallies.setdefault("students", CollectionTally())
    url = f"{config.base_url}/students"
    seen: set[str] = set()
    delta = read.plan.mode == "delta"
    version = config.version
    for page in _collected(read_collection(http, url, "users", _params(config, read.plan), tally)):
        # a page at a time, in comprehensions: a million records make per-record calls count
        rows = [rec.student_row(record, version, extra) for record in page.records]
        rows += [rec.malformed_student_row(malformed, extra) for malformed in page.malformed]
        out.writerows(rows)
        read.rows += len(rows)
        read.remember([hash(row[0]) for row in rows])
        for stamp in {row[2] for row in rows[: len(page.records)]}:
            read.stamp(stamp)
        if delta:
            seen.update(row[0] for row in rows)
    if delta:
        # a birth date changed while the student's own record did not: the row carries the user too
        for sourced_id in sorted(read.changed_demographics - seen):
            record = _one_student(http, url, sourced_id)
            if record is not None:
                read.fetched_one_by_one += 1
                read.rows += 1
                out.writerow(rec.student_row(record, config.version, extra))


def _one_student(http: ApiSession, url: str, sourced_id: str) -> Any:
    try:
        response = http.get(f"{url}/{quote(sourced_id, safe='')}")
    except SourceUnavailable as refused:
        if "HTTP 404" in refused.reason:
            return None  # not a student (any more): nothing to carry
        raise
    try:
        return response.json().get("user")
    except (ValueError, AttributeError):
        return None


def _params(config: OneRosterApiConfig, plan: ReadPlan) -> dict[str, str]:
    params = _sorted(config)
    if plan.mode == "delta" and plan.watermark is not None:
        params["filter"] = delta_filter(plan.watermark, config.delta_overlap_seconds)
    return params


def _sorted(config: OneRosterApiConfig) -> dict[str, str]:
    return {"sort": config.sort} if config.sort else {}


def delta_filter(watermark: datetime, overlap_seconds: int) -> str:
    since = (watermark - timedelta(seconds=overlap_seconds)).astimezone(UTC)
    return f"dateLastModified>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _manifest(mode: Mode, demographics: bool) -> list[list[str]]:
    """Our bundle is written in OneRoster 1.1's CSV shape (role on users.csv) whatever the API's version."""
    return [
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.1"],
        ["file.demographics", mode if demographics else "absent"],
        ["file.orgs", "bulk"],
        ["file.users", mode],
        ["source.systemName", "ale-sync OneRoster API read"],
    ]


def extra_columns(source: SourceConfig) -> list[str]:
    """Columns the source's SSID / Other ID mapping reads beyond the standard users.csv ones."""
    return sorted(
        {ids.column for ids in (source.ssid_from, source.other_id_from) if ids.kind == "column"}
        - set(rec.USERS)
    )


def _check_ids_once(read: _Read, path: Path) -> None:
    """A sourcedId received twice means the pages shifted under the read; hashes point at candidates,
    the bundle itself confirms (two ids may share a hash)."""
    twice = {
        value
        for bucket in read.student_ids
        if len(set(bucket)) != len(bucket)
        for value, n in Counter(bucket).items()
        if n > 1
    }
    if not twice:
        return
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path) as bundle, bundle.open("users.csv") as stream:
        rows = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
        next(rows)
        for row in rows:
            if row and hash(row[0]) in twice:
                counts[row[0]] = counts.get(row[0], 0) + 1
    repeated = sum(1 for n in counts.values() if n > 1)
    if repeated:
        raise DataChanged(f"{repeated} students came twice")


def _incomplete(read: _Read) -> str | None:
    for name, tally in read.tallies.items():
        total = tally.server_total
        if total is not None and tally.records < total:
            return f"incomplete read: /{name} gave {tally.records} of the {total} records promised"
        if total is not None and tally.records > total:
            raise DataChanged(f"/{name} gave {tally.records} records for an X-Total-Count of {total}")
    return None


def _provenance(
    source: SourceConfig, config: OneRosterApiConfig, read: _Read, requests: dict[str, int]
) -> dict[str, Any]:
    plan = read.plan
    return {
        "source_kind": "oneroster-api",
        "read": plan.mode,
        "api_version": config.version,
        "base_url": config.base_url,
        "since": plan.watermark.isoformat() if plan.mode == "delta" and plan.watermark else None,
        "filter": _params(config, plan).get("filter"),
        "watermark": read.newest.isoformat() if read.newest else None,
        "collections": {name: tally.as_dict() for name, tally in read.tallies.items()},
        "fetched_one_by_one": read.fetched_one_by_one,
        **requests,
    }


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 dateLastModified as an aware datetime (UTC when the server gives no zone)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
