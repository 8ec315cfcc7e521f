"""Search by name for manual linking: the active SIS records of the district ranked against one
created record, each with its reasons and any created record already linked to it.

Fast at a million SIS records without contrib extensions: candidates come only from blocks
over the generated key columns (matching/search_keys.py, one index): surnames sharing the
first two letters of the typed surname or of one of its parts (exact, compound and most
misspelt surnames), and given and family swapped; each narrowed, inside the index, to the
initials the typed given name and its nicknames allow. Ranking is Python (matching/scoring.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.names import PARTICLES, relatives, tokens
from matching.records import CreatedRecord, PersonName, SisCandidate
from matching.scoring import rank
from matching.search_keys import initial_key, name_key

MAX_BLOCK_ROWS = 5000  # a safety cap; real blocks are far smaller
PREFIX = 2

_SELECT = """
SELECT s.id, s.ssid, s.other_id, s.first_name, s.middle_name, s.last_name, s.birth_date, s.grade,
       s.school_id,
       (SELECT a.created_record_id FROM link_audit a WHERE a.district_id = :d AND a.sis_record_id = s.id
         ORDER BY a.id LIMIT 1) AS linked_created_record_id
FROM students s
WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND ({blocks})
LIMIT :cap
"""
_PREFIX_BLOCK = (
    "(s.search_last >= :p{i} AND s.search_last < :q{i} AND s.search_initial = ANY(CAST(:initials AS text[])))"
)
_SWAPPED_BLOCK = (
    "(s.search_last = ANY(CAST(:firsts AS text[]))"
    " AND s.search_initial = ANY(CAST(:last_initials AS text[])))"
)


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


def blocking_query(name: PersonName) -> tuple[str, dict[str, Any]]:
    """The blocking query and its parameters for one typed name."""
    prefixes = sorted({key[:PREFIX] for key in _surname_keys(name.last)})
    params: dict[str, Any] = {
        "initials": _initials(name.first),
        "firsts": _surname_keys(name.first),
        "last_initials": sorted({initial_key(name.last)} - {""}),
    }
    blocks = [_SWAPPED_BLOCK]
    for i, prefix in enumerate(prefixes):
        # C collation: every key starting with the prefix sorts between it and prefix + "{"
        params[f"p{i}"], params[f"q{i}"] = prefix, prefix + "{"
        blocks.append(_PREFIX_BLOCK.format(i=i))
    return _SELECT.format(blocks=" OR ".join(blocks)), params


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
    query, params = blocking_query(created.name)
    rows = session.execute(text(query), {"d": district_id, "cap": MAX_BLOCK_ROWS, **params}).all()
    ranked = sorted(
        ((rank(created, _candidate(district_id, row)), row.linked_created_record_id) for row in rows),
        key=lambda pair: (-pair[0].score, pair[0].sis_record_id),
    )
    return [
        RankedCandidate(r.sis_record_id, r.score, list(r.reasons), linked) for r, linked in ranked[:limit]
    ]
