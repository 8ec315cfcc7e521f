"""Gather what the pure core decides on: unlinked created records, their candidates, dismissals.

One query fetches every unlinked created record of the district (or the few asked for) with
the active SIS records its SSID or Other ID points at; a second looks up SSID typo neighbours
for the records whose SSID found nothing; a third, for the records without ids (and those
with a birth date whose ids found nothing), the records carrying their names as typed or
swapped, so the pure core can suggest a possible SIS match or a two-digit SSID slip. All stay inside
the district.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.evidence import NO_FREQUENCIES, NameFrequencies
from matching.core.records import COLUMNS, CreatedRecord, SisCandidate, select_list
from matching.core.search_keys import name_key
from matching.name_directory import NameDirectory, name_directory

# every statement below gives a record's columns in COLUMNS order, read by position
_SIS_COLUMNS = select_list("s")
_WIDTH = len(COLUMNS)

# the SIS records come with their columns straight from the id look-ups (joining back on their id
# would read the whole district's table a third time). Each created record looks its ids up in the
# indexes: as hash joins, Postgres read and hashed the district's whole table once per id, twice
# a million rows for 100,000 created records (1.07 to 1.23 s; now 0.65 to 0.88 s)
#
# Each row: the created record's COLUMNS; the SIS record's COLUMNS and whether the SIS first sent
# it after staff last saved the created record; and, when it did and under other names, whether an
# SIS record carries the names exactly as typed (one index look-up, made only then: a twin sent
# in the same batch; rule 5 in matching/core/decide.py). The pure core's sent_after_typing and
# typed_names_in_sis. (The comparison is made here: returning the two timestamps instead cost
# the query 0.1 to 0.5 s at a million records, by timing each version of it alone.)
_GATHER = f"""
WITH c AS (
  SELECT {", ".join(COLUMNS)}, updated_at, search_last, search_first FROM students
  WHERE district_id = :d AND origin = 'created' AND status = 'active' {{only}}
)
SELECT {select_list("c")}, {select_list("h")}, h.created_at > c.updated_at,
  CASE WHEN h.created_at > c.updated_at
        AND (h.search_last, h.search_first) IS DISTINCT FROM (c.search_last, c.search_first)
    THEN EXISTS (
      SELECT 1 FROM students o
      WHERE o.district_id = :d AND o.origin = 'sis' AND o.status = 'active'
        AND o.search_last = c.search_last AND o.search_first = c.search_first)
  END
FROM c LEFT JOIN LATERAL (
  SELECT {_SIS_COLUMNS}, s.created_at, s.search_last, s.search_first FROM students s
  WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND s.ssid IS NOT NULL
    AND s.ssid = c.ssid
  UNION
  SELECT {_SIS_COLUMNS}, s.created_at, s.search_last, s.search_first FROM students s
  WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND s.other_id = c.other_id
) AS h ON true
"""

# the SQL twin of matching.core.typos.ssid_typo_variants (a test holds them equal): every id one
# substitution or one adjacent transposition away, built in the database so only the typed
# SSIDs travel, not a hundred variants of each
TYPO_VARIANTS = """
WITH typed AS (
  SELECT * FROM unnest(CAST(:created AS bigint[]), CAST(:ssids AS text[])) AS t(created_id, ssid)
), variants AS (
  SELECT t.created_id, overlay(t.ssid PLACING d::text FROM p FOR 1) AS ssid
  FROM typed t, generate_series(1, length(t.ssid)) AS p, generate_series(0, 9) AS d
  WHERE substr(t.ssid, p, 1) <> d::text
  UNION ALL  -- a substitution and a transposition never give the same id
  SELECT t.created_id, overlay(t.ssid PLACING substr(t.ssid, p + 1, 1) || substr(t.ssid, p, 1) FROM p FOR 2)
  FROM typed t, generate_series(1, length(t.ssid) - 1) AS p
  WHERE substr(t.ssid, p, 1) <> substr(t.ssid, p + 1, 1)
)
"""

_TYPOS = (
    TYPO_VARIANTS
    + f"""
SELECT v.created_id, {_SIS_COLUMNS}
FROM variants v
JOIN students s ON s.district_id = :d AND s.origin = 'sis' AND s.status = 'active'
  AND s.ssid IS NOT NULL AND s.ssid = v.ssid
"""
)


NAME_PAIR_ROWS = 50  # a name pair the district carries more often than this suggests nobody

# SIS records whose name keys are one of the given (created record, family key, given key) pairs:
# one index look-up per pair. As a plain join Postgres expected hundreds of thousands of rows and
# merge-joined along the whole district's name index, reading every SIS record of a million-record
# district to return 73,000 (2.0 s against 0.5 s); OFFSET 0 keeps the look-up a subquery per pair.
_BY_NAME = f"""
SELECT p.created_id, s.*
FROM unnest(CAST(:created AS bigint[]), CAST(:lasts AS text[]), CAST(:firsts AS text[]))
  AS p(created_id, last_key, first_key)
CROSS JOIN LATERAL (
  SELECT {_SIS_COLUMNS} FROM students s
  WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active'
    AND s.search_last = p.last_key AND s.search_first = p.first_key
  OFFSET 0
) AS s
"""


@dataclass(frozen=True)
class Gathered:
    """Everything one pass needs, keyed by created record id, and the district's name counts."""

    records: dict[int, CreatedRecord]
    candidates: dict[int, list[SisCandidate]]
    dismissed: dict[int, frozenset[int]]
    frequencies: NameFrequencies = NO_FREQUENCIES


def _add_found(district_id: str, rows: Sequence[Any], candidates: dict[int, list[SisCandidate]]) -> None:
    """Rows of a created record's id then an SIS record's columns: each SIS record becomes a candidate
    of that created record, unless it already is one (found by the other id, or by another name pair)."""
    for row in rows:
        found = candidates[row[0]]
        if all(c.id != row[1] for c in found):
            found.append(SisCandidate.from_columns(district_id, row[1 : 1 + _WIDTH]))


def gather(session: Session, district_id: str, created_ids: Sequence[int] | None = None) -> Gathered:
    """Unlinked created records of the district (all, or `created_ids`) and their candidates: the
    records their ids point at, SSID typo neighbours, and for records whose ids found nothing
    (or that have none) the records their names point at."""
    only = "" if created_ids is None else "AND id = ANY(CAST(:ids AS bigint[]))"
    params: dict[str, Any] = {"d": district_id, "ids": list(created_ids or [])}
    records: dict[int, CreatedRecord] = {}
    candidates: dict[int, list[SisCandidate]] = defaultdict(list)
    sis_to = 2 * _WIDTH
    for row in session.execute(text(_GATHER.format(only=only)), params).all():
        created_id, typed_names_in_sis = row[0], row[-1]
        record = records.get(created_id)
        if record is None or (typed_names_in_sis is not None and record.typed_names_in_sis is None):
            records[created_id] = CreatedRecord.from_columns(
                district_id, row[:_WIDTH], typed_names_in_sis=typed_names_in_sis
            )
        if row[_WIDTH] is not None:
            found = SisCandidate.from_columns(district_id, row[_WIDTH:sis_to], sent_after_typing=row[sis_to])
            candidates[created_id].append(found)
    _add_typo_neighbours(session, district_id, records, candidates)
    directory = name_directory(session, district_id)
    _add_name_neighbours(session, district_id, records, candidates, directory)
    dismissed = _dismissed(session, district_id, created_ids)
    return Gathered(records, dict(candidates), dismissed, directory.frequencies)


def _add_typo_neighbours(
    session: Session,
    district_id: str,
    records: dict[int, CreatedRecord],
    candidates: dict[int, list[SisCandidate]],
) -> None:
    typed = [
        (r.id, r.ssid)
        for r in records.values()
        if r.ssid and not any(c.ssid == r.ssid for c in candidates.get(r.id, ()))
    ]
    if not typed:
        return
    params = {"d": district_id, "created": [i for i, _ in typed], "ssids": [s for _, s in typed]}
    # a record the Other ID already found is not a second one
    _add_found(district_id, session.execute(text(_TYPOS), params).all(), candidates)


def _name_pairs(record: CreatedRecord, directory: NameDirectory) -> set[tuple[str, str]]:
    """Key pairs for one record: its names as typed, straight and swapped. (Slips are left to
    name search: near every name, a district pass would read too many records.)"""
    straight = {(name_key(record.name.last), name_key(record.name.first))}
    swapped = {(name_key(record.name.first), name_key(record.name.last))}
    pairs = {(last, first) for last, first in straight | swapped if last and first}
    return {p for p in pairs if _expected(directory, *p) <= NAME_PAIR_ROWS}


def _expected(directory: NameDirectory, last: str, first: str) -> float:
    records = max(directory.frequencies.records, 1)
    return directory.count("family", last) * directory.count("given", first) / records


def _add_name_neighbours(
    session: Session,
    district_id: str,
    records: dict[int, CreatedRecord],
    candidates: dict[int, list[SisCandidate]],
    directory: NameDirectory,
) -> None:
    """For records without ids, and records with a birth date whose ids found nothing: the records
    their names find (a possible SIS match, an SSID two digits off)."""
    wanted = [
        r
        for r in records.values()
        if (not r.ssid and not r.other_id) or (r.birth_date is not None and not candidates.get(r.id))
    ]
    rows = [(r.id, last, first) for r in wanted for last, first in _name_pairs(r, directory)]
    if not rows:
        return
    created, lasts, firsts = (list(column) for column in zip(*rows, strict=True))
    params = {"d": district_id, "created": created, "lasts": lasts, "firsts": firsts}
    _add_found(district_id, session.execute(text(_BY_NAME), params).all(), candidates)


def _dismissed(
    session: Session, district_id: str, created_ids: Sequence[int] | None
) -> dict[int, frozenset[int]]:
    only = "" if created_ids is None else " AND created_record_id = ANY(CAST(:ids AS bigint[]))"
    rows = session.execute(
        text(
            "SELECT created_record_id, sis_record_id FROM dismissed_suggestions WHERE district_id = :d" + only
        ),
        {"d": district_id, "ids": list(created_ids or [])},
    )
    pairs: dict[int, set[int]] = defaultdict(set)
    for created_record_id, sis_record_id in rows:
        pairs[created_record_id].add(sis_record_id)
    return {k: frozenset(v) for k, v in pairs.items()}
