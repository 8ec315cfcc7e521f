"""Each district's SIS names: every given and family name key (matching/core/search_keys.py) with the
number of active SIS records carrying it.

Two uses: the evidence model weighs an agreeing name by its share of the district (a shared
"Smith" is weaker evidence than a shared "Wojciechowski"), and name search looks misspelt names up
in it (every key within two edits of the typed one, first letters included) before it asks
Postgres for the records. Read with one GROUP BY over the district's SIS records and kept per
process; read again when the district has a newer SIS record or a newer applied batch, and at the
latest after MAX_AGE_SECONDS. Whether it has is asked in two steps: the district's newest record
of either origin and its newest applied batch (two index look-ups), and only when one of those
moved, whether a record made since the last check is an SIS one (the ids in between, a few), or
after a new batch, its newest SIS record. A stale copy misses only a brand-new name's misspellings
for a moment: name search always asks for the typed names themselves as well.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.evidence import NameFrequencies

MAX_AGE_SECONDS = 600
MAX_DISTRICTS = 64

Part = Literal["given", "family"]

# the district's newest record of either origin and newest applied batch (the pkey's last entry,
# an index look-up): columns a caller's statement may carry, so the check costs no round trip
SEEN_COLUMNS = (
    "(SELECT max(id) FROM students WHERE district_id = :d) AS seen_record,"
    " (SELECT max(id) FROM batches WHERE district_id = :d AND status = 'applied') AS seen_batch"
)
_SEEN = f"SELECT {SEEN_COLUMNS}"

# the district's newest SIS record and newest applied batch: what the directory was read at
_VERSION = """
SELECT (SELECT max(id) FROM students WHERE district_id = :d AND origin = 'sis'),
       (SELECT max(id) FROM batches WHERE district_id = :d AND status = 'applied')
"""

# whether a record made since the last check is an SIS record: the ids in between, along the primary
# key (the district's newest SIS record would walk back over every created record made since it)
_SIS_SINCE = """
SELECT EXISTS (SELECT 1 FROM students
               WHERE district_id = :d AND id > :after AND id <= :upto AND origin = 'sis')
"""

# one pass over the district's SIS records, counted by given name and by family name
_COUNTS = """
SELECT GROUPING(search_first) = 0 AS is_given, coalesce(search_first, search_last) AS key, count(*) AS n
FROM students WHERE district_id = :d AND origin = 'sis' AND status = 'active'
GROUP BY GROUPING SETS ((search_first), (search_last))
"""


@dataclass(frozen=True)
class NameDirectory:
    """A district's name keys and their counts, with the keys grouped by length for look-ups."""

    frequencies: NameFrequencies
    version: tuple[Any, ...] = ()
    read_at: float = 0.0
    _by_length: dict[Part, dict[int, list[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, given: dict[str, int], family: dict[str, int], records: int, version: tuple[Any, ...] = ()
    ) -> NameDirectory:
        by_length: dict[Part, dict[int, list[str]]] = {"given": {}, "family": {}}
        for part, counts in (("given", given), ("family", family)):
            for key in counts:
                by_length[part].setdefault(len(key), []).append(key)  # type: ignore[index]
        return cls(NameFrequencies(records, given, family), version, time.monotonic(), by_length)

    _near: dict[tuple[Part, str, int], list[str]] = field(default_factory=dict, repr=False)

    def near(self, part: Part, key: str, edits: int) -> list[str]:
        """Keys of the district within `edits` edits (a swap of neighbours is one) of `key`."""
        if not key:
            return []
        remembered = self._near.get((part, key, edits))
        if remembered is None:
            remembered = self._near[(part, key, edits)] = self._look_up(part, key, edits)
        return remembered

    def _look_up(self, part: Part, key: str, edits: int) -> list[str]:
        lengths = self._by_length.get(part, {})
        choices = [k for n in range(len(key) - edits, len(key) + edits + 1) for k in lengths.get(n, ())]
        found = process.extract(
            key, choices, scorer=DamerauLevenshtein.distance, score_cutoff=edits, limit=None
        )
        return [choice for choice, _, _ in found]

    def containing(self, part: Part, key: str) -> list[str]:
        """Longer keys made of `key` and more (a compound family name: garcia in garcialopez)."""
        lengths = self._by_length.get(part, {})
        return [k for n, keys in lengths.items() if n > len(key) for k in keys if key in k]

    def count(self, part: Part, key: str) -> int:
        counts = self.frequencies.given if part == "given" else self.frequencies.family
        return counts.get(key, 0)


_cache: dict[str, tuple[NameDirectory, tuple[Any, ...]]] = {}  # with what _SEEN said at the last check
_lock = threading.Lock()


def seen_of(row: Any) -> tuple[Any, ...]:
    """What SEEN_COLUMNS said, from a row that carried them."""
    return (row.seen_record, row.seen_batch)


def name_directory(session: Session, district_id: str, seen: tuple[Any, ...] | None = None) -> NameDirectory:
    """The district's directory, read again only when its SIS records or batches moved on; `seen`:
    what SEEN_COLUMNS said in the caller's own statement, when it carried them."""
    if seen is None:
        seen = seen_of(session.execute(text(_SEEN), {"d": district_id}).one())
    with _lock:
        cached, cached_seen = _cache.get(district_id, (None, ()))
    if cached is None or time.monotonic() - cached.read_at >= MAX_AGE_SECONDS:
        directory = _read(session, district_id, _version(session, district_id))
    elif seen == cached_seen:
        return cached
    elif seen[1] == cached_seen[1] and _only_created_since(session, district_id, cached_seen[0], seen[0]):
        directory = cached
    else:  # a new batch, a new SIS record, or the newest record gone
        version = _version(session, district_id)
        directory = cached if version == cached.version else _read(session, district_id, version)
    with _lock:
        if len(_cache) >= MAX_DISTRICTS and district_id not in _cache:
            _cache.pop(next(iter(_cache)))
        _cache[district_id] = (directory, seen)
    return directory


def _only_created_since(session: Session, district_id: str, after: int | None, upto: int | None) -> bool:
    """Whether the records newer than the last check's newest are all created records."""
    if upto is None or (after is not None and upto < after):
        return False  # the newest records are gone: asked the long way
    params = {"d": district_id, "after": after or 0, "upto": upto}
    return not session.execute(text(_SIS_SINCE), params).scalar_one()


def _version(session: Session, district_id: str) -> tuple[Any, ...]:
    return tuple(session.execute(text(_VERSION), {"d": district_id}).one())


def _read(session: Session, district_id: str, version: tuple[Any, ...]) -> NameDirectory:
    given: dict[str, int] = {}
    family: dict[str, int] = {}
    for is_given, key, n in session.execute(text(_COUNTS), {"d": district_id}):
        if key:
            (given if is_given else family)[key] = n
    return NameDirectory.of(given, family, sum(given.values()), version)
