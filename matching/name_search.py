"""Search by name for manual linking: the active SIS records of the district ranked against one
created record, each with its reasons and any created record already linked to it.

Fast at a million SIS records without contrib extensions: candidates come only from blocks
over the generated key columns (matching/search_keys.py) — same surname key, same surname
sound, a compound surname starting with the typed one, or given and family swapped — each
narrowed to the given-name initials the typed name and its nicknames allow. Ranking is Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.names import PARTICLES, relatives, tokens
from matching.records import CreatedRecord, PersonName, SisCandidate
from matching.scoring import rank
from matching.search_keys import name_key, surname_sound

MAX_BLOCK_ROWS = 5000  # a safety cap; real blocks are far smaller

_BLOCKS = """
SELECT s.id, s.ssid, s.other_id, s.first_name, s.middle_name, s.last_name, s.birth_date, s.grade,
       s.school_id,
       (SELECT a.created_record_id FROM link_audit a WHERE a.district_id = :d AND a.sis_record_id = s.id
         ORDER BY a.id LIMIT 1) AS linked_created_record_id
FROM students s
WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND (
     (s.search_last = ANY(CAST(:lasts AS text[]))
      AND left(s.search_first, 1) = ANY(CAST(:initials AS text[])))
  OR (s.search_last_sound = ANY(CAST(:sounds AS text[]))
      AND left(s.search_first, 1) = ANY(CAST(:initials AS text[])))
  OR (s.search_last >= :prefix AND s.search_last < :prefix_end
      AND left(s.search_first, 1) = ANY(CAST(:initials AS text[])))
  OR (s.search_last = ANY(CAST(:firsts AS text[]))
      AND left(s.search_first, 1) = ANY(CAST(:last_initials AS text[])))
)
LIMIT :cap
"""


@dataclass(frozen=True)
class RankedCandidate:
    """A ranked SIS record, marked when a created record is already linked to it."""

    sis_record_id: int
    score: float
    reasons: list[str]
    already_linked_created_record_id: int | None


def _initials(given: str) -> list[str]:
    """First letters the SIS given name may start with: the typed one's and its nicknames'."""
    words = tokens(given)
    if not words:
        return []
    nicknames, canonicals = relatives(words[0])
    return sorted({words[0][0], *(n[0] for n in nicknames | canonicals if n)})


def _surname_keys(last: str) -> list[str]:
    words = tokens(last)
    return sorted({name_key(last), *words, "".join(w for w in words if w not in PARTICLES)} - {""})


def block_parameters(name: PersonName) -> dict[str, Any]:
    """The bind parameters of the blocking query for one typed name."""
    lasts = _surname_keys(name.last)
    prefix = name_key(name.last)
    return {
        "lasts": lasts,
        "sounds": sorted({surname_sound(k) for k in lasts}),
        "initials": _initials(name.first),
        # a compound surname that starts with the typed one (García -> García-López); C collation
        "prefix": prefix if len(prefix) >= 3 else "~",
        "prefix_end": prefix + "{",
        "firsts": _surname_keys(name.first),
        "last_initials": sorted({k[0] for k in lasts}),
    }


def _created_record(session: Session, district_id: str, created_record_id: int) -> CreatedRecord | None:
    row = session.execute(
        text(
            "SELECT id, first_name, middle_name, last_name, ssid, other_id, birth_date, grade, school_id"
            " FROM students WHERE id = :id AND district_id = :d AND origin = 'created'"
        ),
        {"id": created_record_id, "d": district_id},
    ).first()
    if row is None:
        return None
    name = PersonName(row.first_name, row.last_name, row.middle_name)
    return CreatedRecord(
        row.id, district_id, name, row.ssid, row.other_id, row.birth_date, row.grade, row.school_id
    )


def _candidate(district_id: str, row: Any) -> SisCandidate:
    return SisCandidate(
        row.id,
        district_id,
        PersonName(row.first_name, row.last_name, row.middle_name),
        row.ssid,
        row.other_id,
        row.birth_date,
        row.grade,
        row.school_id,
    )


def rank_candidates(
    session: Session, district_id: str, created_record_id: int, limit: int = 20
) -> list[RankedCandidate]:
    """The district's active SIS records most like the created record, best first."""
    created = _created_record(session, district_id, created_record_id)
    if created is None:
        return []
    params = {"d": district_id, "cap": MAX_BLOCK_ROWS, **block_parameters(created.name)}
    rows = session.execute(text(_BLOCKS), params).all()
    ranked = sorted(
        ((rank(created, _candidate(district_id, row)), row.linked_created_record_id) for row in rows),
        key=lambda pair: (-pair[0].score, pair[0].sis_record_id),
    )
    return [
        RankedCandidate(r.sis_record_id, r.score, list(r.reasons), linked) for r, linked in ranked[:limit]
    ]
