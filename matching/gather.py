"""Gather what the pure core decides on: unlinked created records, their candidates, dismissals.

One query fetches every unlinked created record of the district (or the few asked for) with
the active SIS records its SSID or Other ID points at; a second looks up SSID typo neighbours
for the records whose SSID found nothing. Both stay inside the district.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.records import CreatedRecord, PersonName, SisCandidate

_SIS_COLUMNS = (
    "s.id, s.ssid, s.other_id, s.first_name, s.middle_name, s.last_name, s.birth_date, s.grade, s.school_id"
)

_GATHER = f"""
WITH c AS (
  SELECT id, ssid, other_id, first_name, middle_name, last_name, birth_date FROM students
  WHERE district_id = :d AND origin = 'created' AND status = 'active' {{only}}
), hits AS (
  SELECT c.id AS created_id, s.id AS sis_id FROM c JOIN students s
    ON s.district_id = :d AND s.origin = 'sis' AND s.status = 'active'
    AND s.ssid IS NOT NULL AND s.ssid = c.ssid
  UNION
  SELECT c.id, s.id FROM c JOIN students s
    ON s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND s.other_id = c.other_id
)
SELECT c.id AS c_id, c.ssid AS c_ssid, c.other_id AS c_other_id, c.first_name AS c_first,
       c.middle_name AS c_middle, c.last_name AS c_last, c.birth_date AS c_birth, {_SIS_COLUMNS}
FROM c LEFT JOIN hits h ON h.created_id = c.id LEFT JOIN students s ON s.id = h.sis_id
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


@dataclass(frozen=True)
class Gathered:
    """Everything one pass needs, keyed by created record id."""

    records: dict[int, CreatedRecord]
    candidates: dict[int, list[SisCandidate]]
    dismissed: dict[int, frozenset[int]]


def _candidate(district_id: str, row: Any) -> SisCandidate:
    return SisCandidate(
        id=row.id,
        district_id=district_id,
        name=PersonName(row.first_name, row.last_name, row.middle_name),
        ssid=row.ssid,
        other_id=row.other_id,
        birth_date=row.birth_date,
        grade=row.grade,
        school_id=row.school_id,
    )


def _created(district_id: str, row: Any) -> CreatedRecord:
    name = PersonName(row.c_first, row.c_last, row.c_middle)
    return CreatedRecord(row.c_id, district_id, name, row.c_ssid, row.c_other_id, row.c_birth)


def gather(session: Session, district_id: str, created_ids: Sequence[int] | None = None) -> Gathered:
    """Unlinked created records of the district (all, or `created_ids`) and their candidates."""
    only = "" if created_ids is None else "AND id = ANY(CAST(:ids AS bigint[]))"
    params: dict[str, Any] = {"d": district_id, "ids": list(created_ids or [])}
    records: dict[int, CreatedRecord] = {}
    candidates: dict[int, list[SisCandidate]] = defaultdict(list)
    for row in session.execute(text(_GATHER.format(only=only)), params):
        records.setdefault(row.c_id, _created(district_id, row))
        if row.id is not None:
            candidates[row.c_id].append(_candidate(district_id, row))
    _add_typo_neighbours(session, district_id, records, candidates)
    return Gathered(records, dict(candidates), _dismissed(session, district_id, created_ids))


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
    for row in session.execute(text(_TYPOS), params):
        candidates[row.created_id].append(_candidate(district_id, row))


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
