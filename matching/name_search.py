"""Search by name for manual linking: the active SIS records of the district ranked against one
created record, each with its reasons and any created record already linked to it.

Fast at a million SIS records without contrib extensions: candidates come only from index
ranges over the key columns `(district_id, search_last, search_first)`
(matching/core/search_keys.py), each kept small by pairing a loose condition on one name with a
tight one on the other:

- same surname (or one of its words), same given-name initial: a misspelt given name;
- same surname, given name one of the typed name's nicknames: Bill for William;
- a surname that starts with the typed one, same initial: a compound surname (García-López);
- a surname sharing the first two letters, same given name or nickname: a misspelt surname;
- given and family swapped.

Ranking is Python (matching/core/scoring.py) over the few hundred rows these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.names import PARTICLES, relatives, tokens
from matching.core.records import CreatedRecord, PersonName, SisCandidate
from matching.core.scoring import rank
from matching.core.search_keys import name_key

MAX_BLOCK_ROWS = 5000  # a safety cap; real blocks are far smaller
MISSPELT_PREFIX = 2

_SELECT = """
SELECT s.id, s.ssid, s.other_id, s.first_name, s.middle_name, s.last_name, s.birth_date, s.grade, s.school_id
FROM students s
WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND ({blocks})
LIMIT :cap
"""

# sets the transaction's max_parallel_workers_per_gather, returning what it was
_NO_WORKERS = (
    "SELECT current_setting('max_parallel_workers_per_gather'),"
    " set_config('max_parallel_workers_per_gather', CAST(:workers AS text), true)"
)

_LINKED = """
SELECT DISTINCT ON (sis_record_id) sis_record_id, created_record_id FROM link_audit
WHERE district_id = :d AND sis_record_id = ANY(CAST(:ids AS bigint[])) ORDER BY sis_record_id, id
"""


@dataclass(frozen=True)
class RankedCandidate:
    """A ranked SIS record, marked when a created record is already linked to it."""

    sis_record_id: int
    score: float
    reasons: list[str]
    already_linked_created_record_id: int | None


def _surname_keys(last: str) -> list[str]:
    words = tokens(last)
    return sorted({name_key(last), *words, "".join(w for w in words if w not in PARTICLES)} - {""})


def _given_keys(first: str) -> list[str]:
    """The typed given name and its nicknames, as keys."""
    words = tokens(first)
    if not words:
        return []
    nicknames, canonicals = relatives(words[0])
    return sorted({words[0], "".join(words), *(name_key(n) for n in nicknames | canonicals)} - {""})


def _range(prefix: str) -> tuple[str, str]:
    """Keys starting with `prefix` sort in [prefix, prefix + "{"): C collation, a-z only."""
    return prefix, prefix + "{"


class _Blocks:
    """OR-ed index ranges and their bind parameters."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, condition: str, **params: Any) -> None:
        n = len(self.sql)
        for name, value in params.items():
            self.params[f"{name}{n}"] = value
            condition = condition.replace(f":{name}", f":{name}{n}")
        self.sql.append(f"({condition})")


_SAME_LAST = "s.search_last = ANY(CAST(:lasts AS text[]))"
_LAST_RANGE = "s.search_last >= :lo AND s.search_last < :hi"
_FIRST_RANGE = "s.search_first >= :flo AND s.search_first < :fhi"
_SAME_FIRST = "s.search_first = ANY(CAST(:firsts AS text[]))"


def blocking_query(name: PersonName) -> tuple[str, dict[str, Any]]:
    """The blocking query and its parameters for one typed name."""
    lasts, givens = _surname_keys(name.last), _given_keys(name.first)
    blocks = _Blocks()
    if lasts and givens:
        flo, fhi = _range(tokens(name.first)[0][:1])
        blocks.add(f"{_SAME_LAST} AND {_FIRST_RANGE}", lasts=lasts, flo=flo, fhi=fhi)
        blocks.add(f"{_SAME_LAST} AND {_SAME_FIRST}", lasts=lasts, firsts=givens)
        typed = name_key(name.last)
        if len(typed) >= 3:
            lo, hi = _range(typed)
            blocks.add(f"{_LAST_RANGE} AND {_FIRST_RANGE}", lo=lo, hi=hi, flo=flo, fhi=fhi)
        for prefix in sorted({key[:MISSPELT_PREFIX] for key in lasts}):
            lo, hi = _range(prefix)
            blocks.add(f"{_LAST_RANGE} AND {_SAME_FIRST}", lo=lo, hi=hi, firsts=givens)
        # given and family swapped: the typed given name is the surname, the initial the family's
        flo, fhi = _range(typed[:1])
        blocks.add(f"{_SAME_LAST} AND {_FIRST_RANGE}", lasts=_surname_keys(name.first), flo=flo, fhi=fhi)
    if not blocks.sql:
        return "", {}
    return _SELECT.format(blocks=" OR ".join(blocks.sql)), blocks.params


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
    if not query:
        return []
    # without parallel workers: on the partitioned students table the plan Postgres keeps for the
    # driver's prepared statement starts two workers for a few milliseconds of work, which made
    # the search about three times slower at a million records (README, "Search by name")
    previous = session.execute(text(_NO_WORKERS), {"workers": "0"}).scalar_one()
    rows = session.execute(text(query), {"d": district_id, "cap": MAX_BLOCK_ROWS, **params}).all()
    session.execute(text(_NO_WORKERS), {"workers": previous})
    ranked = sorted(
        (rank(created, _candidate(district_id, row)) for row in rows),
        key=lambda r: (-r.score, r.sis_record_id),
    )[:limit]
    ids = [r.sis_record_id for r in ranked]
    linked: dict[int, int] = {
        row.sis_record_id: row.created_record_id
        for row in session.execute(text(_LINKED), {"d": district_id, "ids": ids})
    }
    return [
        RankedCandidate(r.sis_record_id, r.score, list(r.reasons), linked.get(r.sis_record_id))
        for r in ranked
    ]
