"""The Link Student to ALE table's counts per state for a large district, kept a few seconds in each
web process: counting 10,000 unlinked records with their holds and suggestions cost more than the
rest of a page. A page (and the API's answer) showing kept counts says how many seconds old they
are; the rows themselves are always read afresh, and counts for typed names are never kept."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

KEEP_SECONDS = 5.0
KEEP_FROM_RECORDS = 1_000  # a table with fewer unlinked records is counted for every page


@dataclass(frozen=True)
class Kept:
    counts: dict[str, int]
    counted_at: float  # time.monotonic()

    def age_seconds(self) -> int:
        return int(time.monotonic() - self.counted_at)


_kept: dict[tuple[str, str], Kept] = {}
_lock = threading.Lock()


def _key(session: Session, district_id: str) -> tuple[str, str]:
    return (str(session.get_bind().engine.url), district_id)


def kept_counts(session: Session, district_id: str) -> Kept | None:
    """The district's counts if a page of this process counted them less than KEEP_SECONDS ago."""
    with _lock:
        kept = _kept.get(_key(session, district_id))
    if kept is None or time.monotonic() - kept.counted_at > KEEP_SECONDS:
        return None
    return kept


def keep_counts(session: Session, district_id: str, counts: dict[str, int]) -> None:
    """Keep a large district's counts (`counts["all"]` unlinked records or more) for later pages."""
    if counts["all"] >= KEEP_FROM_RECORDS:
        with _lock:
            _kept[_key(session, district_id)] = Kept(dict(counts), time.monotonic())
