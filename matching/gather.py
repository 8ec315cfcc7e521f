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

from matching.records import CreatedRecord, PersonName, SisCandidate
from matching.typos import ssid_typo_variants

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

_TYPOS = f"""
SELECT v.created_id, {_SIS_COLUMNS}
FROM unnest(CAST(:created AS bigint[]), CAST(:variants AS text[])) AS v(created_id, ssid)
JOIN students s ON s.district_id = :d AND s.origin = 'sis' AND s.status = 'active'
  AND s.ssid IS NOT NULL AND s.ssid = v.ssid
"""


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
    created: list[int] = []
    variants: list[str] = []
    for record in records.values():
        if record.ssid and not any(c.ssid == record.ssid for c in candidates.get(record.id, ())):
            for variant in ssid_typo_variants(record.ssid):
                created.append(record.id)
                variants.append(variant)
    if not created:
        return
    rows = session.execute(text(_TYPOS), {"d": district_id, "created": created, "variants": variants})
    for row in rows:
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
