"""Search by name for manual linking: the active SIS records of the district ranked against one
created record by the summed evidence (matching/core/ranking.py), each with its reasons, its
field-by-field agreement, ties said out loud, and any created record already linked to it.

Fast at a million SIS records without contrib extensions. The misspellings are found in
memory, in the district's name directory (matching/name_directory.py): every given and family
name key within two edits of the typed one (one for names of three letters or fewer), first
letters included, and for a family name the compounds that contain it. Where common names
would make that block large (more than PAIR_ROWS records expected from the directory's
counts) it narrows to one edit each, then to a slip in one of the two names. Postgres is then asked
only for exact keys, as index look-ups on `(district_id, search_last, search_first)`:

- family name near the typed one and given name near the typed one (or a nickname of it);
- the same with given and family swapped;
- the typed family name alone, when the district has few records of it (or, with a birth date
  typed, those of them born that day); the typed given name alone when it is rare and the
  district small (no index leads with the given name), so a child whose family name changed
  is still found;
- an initial typed as the given name: the family name with any given name of that initial.

A surname split or joined by a space or hyphen has the same key (Mac Kenzie = MacKenzie).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.names import PARTICLES, relatives, tokens
from matching.core.ranking import rank
from matching.core.records import CreatedRecord, PersonName, SisCandidate, select_list
from matching.core.search_keys import name_key
from matching.name_directory import SEEN_COLUMNS, NameDirectory, name_directory, seen_of

MAX_BLOCK_ROWS = 5000  # a safety cap; real blocks are far smaller
PAIR_ROWS = 250  # expected records of a near-names block before it is narrowed (common names)
ONE_NAME_ROWS = 150  # a name alone is a block when the district has at most this many records of it
ONE_NAME_WITH_BIRTH_ROWS = 5000  # ... or, filtered by the typed birth date, this many
GIVEN_ALONE_DISTRICT = 20_000  # a given name alone is looked for in districts of at most this many records

_SELECT = f"""
SELECT {select_list("s")}
FROM students s
WHERE s.district_id = :d AND s.origin = 'sis' AND s.status = 'active' AND ({{blocks}})
LIMIT :cap
"""

# the created record (any, or only while unlinked), with what the name directory needs to know
# whether its copy is current (matching/name_directory.py), and max_parallel_workers_per_gather set
# to 0 for the transaction (what it was comes back, to be set again after the blocking query)
_CREATED = f"""
SELECT id, first_name, middle_name, last_name, ssid, other_id, birth_date, grade, school_id,
       {SEEN_COLUMNS}, current_setting('max_parallel_workers_per_gather') AS workers,
       set_config('max_parallel_workers_per_gather', '0', true) AS no_workers
FROM students WHERE id = :id AND district_id = :d AND origin = 'created'
  AND (status = 'active' OR NOT :unlinked_only)
"""

# the shown records' created records already linked, as [sis, created] pairs, and their schools'
# names, as [school id, name] pairs; the worker setting back
_LINKED = """
SELECT set_config('max_parallel_workers_per_gather', CAST(:workers AS text), true) AS workers,
  ARRAY(SELECT ARRAY[sis_record_id, created_record_id] FROM (
    SELECT DISTINCT ON (sis_record_id) sis_record_id, created_record_id FROM link_audit
    WHERE district_id = :d AND sis_record_id = ANY(CAST(:ids AS bigint[])) ORDER BY sis_record_id, id
  ) AS first_links) AS linked,
  ARRAY(SELECT ARRAY[sis_source_id, name] FROM schools
        WHERE district_id = :d AND sis_source_id = ANY(CAST(:schools AS text[]))) AS schools
"""


@dataclass(frozen=True)
class RankedCandidate:
    """A ranked SIS record, marked when a created record is already linked to it."""

    sis_record_id: int
    score: float  # 0..1
    reasons: list[str]
    already_linked_created_record_id: int | None
    weight: float = 0.0  # the summed evidence in bits
    agreement: dict[str, str] = field(default_factory=dict)  # field -> level
    tied: bool = False  # another listed record has the very same evidence
    separating_fields: tuple[str, ...] = ()  # fields, not typed on the created record, that differ
    sis_record: SisCandidate | None = None  # the SIS record as the search read it
    school: str | None = None  # its school's name


def edits_allowed(key: str) -> int:
    return 2 if len(key) >= 4 else 1


def given_keys(first: str) -> set[str]:
    """The typed given name as keys: whole, its first word, and the first word's nicknames."""
    words = tokens(first)
    if not words:
        return set()
    nicknames, canonicals = relatives(words[0])
    return {name_key(first), words[0], *(name_key(n) for n in nicknames | canonicals)} - {""}


def family_keys(last: str) -> set[str]:
    """The typed family name as keys: whole, each word, and the words without particles."""
    words = tokens(last)
    return {name_key(last), *words, "".join(w for w in words if w not in PARTICLES)} - {""}


def _near(directory: NameDirectory, part: Any, keys: set[str], most: int = 2) -> set[str]:
    found = set(keys)
    for key in keys:
        found.update(directory.near(part, key, min(most, edits_allowed(key))))
        if part == "family" and len(key) >= 4:
            found.update(directory.containing(part, key))
    return found


def _expected_rows(directory: NameDirectory, lasts: set[str], firsts: set[str]) -> float:
    """Records expected with one of `lasts` and one of `firsts`, taking the two as independent."""
    records = max(directory.frequencies.records, 1)
    last_rows = sum(directory.count("family", k) for k in lasts)
    return last_rows * sum(directory.count("given", k) for k in firsts) / records


def _pair_block(directory: NameDirectory, lasts: set[str], firsts: set[str]) -> tuple[set[str], set[str]]:
    """Family and given keys near the typed ones: two edits each, unless common names would make
    that block larger than PAIR_ROWS; then one edit each, then a slip in one name only."""
    for most in (2, 1):
        near_lasts, near_firsts = (
            _near(directory, "family", lasts, most),
            _near(directory, "given", firsts, most),
        )
        if _expected_rows(directory, near_lasts, near_firsts) <= PAIR_ROWS:
            return near_lasts, near_firsts
    by_last = _expected_rows(directory, near_lasts, firsts)
    by_first = _expected_rows(directory, lasts, near_firsts)
    return (near_lasts, firsts) if by_last <= by_first else (lasts, near_firsts)


class _Blocks:
    """OR-ed index look-ups and their bind parameters."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, condition: str, **params: Any) -> None:
        n = len(self.sql)
        for name, value in params.items():
            self.params[f"{name}{n}"] = value
            condition = condition.replace(f":{name}", f":{name}{n}")
        self.sql.append(f"({condition})")


_PAIR = "s.search_last = ANY(CAST(:lasts AS text[])) AND s.search_first = ANY(CAST(:firsts AS text[]))"
_LAST = "s.search_last = ANY(CAST(:lasts AS text[]))"
_FIRST = "s.search_first = ANY(CAST(:firsts AS text[]))"
_LAST_BORN = f"{_LAST} AND s.birth_date = :born"
_INITIAL = f"{_LAST} AND s.search_first >= :flo AND s.search_first < :fhi"


def _one_name_blocks(blocks: _Blocks, created: CreatedRecord, directory: NameDirectory) -> None:
    """A family name alone (a given name typed unlike the SIS one), or a given name alone."""
    lasts = sorted(family_keys(created.name.last))
    rows = sum(directory.count("family", k) for k in lasts)
    if rows <= ONE_NAME_ROWS:
        blocks.add(_LAST, lasts=lasts)
    elif created.birth_date is not None and rows <= ONE_NAME_WITH_BIRTH_ROWS:
        blocks.add(_LAST_BORN, lasts=lasts, born=created.birth_date)
    firsts = sorted(given_keys(created.name.first))
    given_rows = sum(directory.count("given", k) for k in firsts)
    # no index leads with the given name: read the whole (small) district instead
    if 0 < given_rows <= ONE_NAME_ROWS and directory.frequencies.records <= GIVEN_ALONE_DISTRICT:
        blocks.add(_FIRST, firsts=firsts)


def blocking_query(created: CreatedRecord, directory: NameDirectory) -> tuple[str, dict[str, Any]]:
    """The blocking query and its parameters for one created record."""
    name: PersonName = created.name
    firsts, lasts = given_keys(name.first), family_keys(name.last)
    if not firsts or not lasts:
        return "", {}
    blocks = _Blocks()
    for pair_lasts, pair_firsts in (
        _pair_block(directory, lasts, firsts),
        _pair_block(directory, family_keys(name.first), given_keys(name.last)),  # swapped
    ):
        blocks.add(_PAIR, lasts=sorted(pair_lasts), firsts=sorted(pair_firsts))
    initial = tokens(name.first)[0]
    if len(initial) == 1:
        blocks.add(_INITIAL, lasts=sorted(lasts), flo=initial, fhi=initial + "{")
    _one_name_blocks(blocks, created, directory)
    return _SELECT.format(blocks=" OR ".join(blocks.sql)), blocks.params


def _created_record(session: Session, district_id: str, created_record_id: int, unlinked_only: bool) -> Any:
    params = {"id": created_record_id, "d": district_id, "unlinked_only": unlinked_only}
    return session.execute(text(_CREATED), params).first()


def find_candidates(
    session: Session, district_id: str, created: CreatedRecord, directory: NameDirectory
) -> list[SisCandidate]:
    """The district's active SIS records the blocking finds for one created record. Run without
    parallel workers (the caller sets that): on the partitioned students table the plan Postgres
    keeps for the driver's prepared statement starts two workers for a few milliseconds of work,
    which made the search about three times slower at a million records (docs/matching.md)."""
    query, params = blocking_query(created, directory)
    if not query:
        return []
    rows = session.execute(text(query), {"d": district_id, "cap": MAX_BLOCK_ROWS, **params}).all()
    return [SisCandidate.from_columns(district_id, row) for row in rows]


def rank_candidates(
    session: Session, district_id: str, created_record_id: int, limit: int = 20
) -> list[RankedCandidate]:
    """The district's active SIS records most like the created record (linked or not), best first.
    Three round trips: the record (with the directory's check), the blocking query, the links
    already made."""
    row = _created_record(session, district_id, created_record_id, unlinked_only=False)
    return [] if row is None else _ranked(session, district_id, row, limit)


def rank_unlinked_candidates(
    session: Session, district_id: str, created_record_id: int, limit: int = 20
) -> list[RankedCandidate] | None:
    """As `rank_candidates` for a record still unlinked; None when it is not an unlinked created
    record of the district."""
    row = _created_record(session, district_id, created_record_id, unlinked_only=True)
    return None if row is None else _ranked(session, district_id, row, limit)


def _ranked(session: Session, district_id: str, row: Any, limit: int) -> list[RankedCandidate]:
    created = CreatedRecord.of(district_id, row)
    directory = name_directory(session, district_id, seen=seen_of(row))
    candidates = {c.id: c for c in find_candidates(session, district_id, created, directory)}
    ranked = rank(created, list(candidates.values()), directory.frequencies, limit)
    shown = [candidates[r.sis_record_id] for r in ranked]
    after = session.execute(
        text(_LINKED),
        {
            "d": district_id, "ids": [c.id for c in shown], "workers": row.workers,
            "schools": sorted({c.school_id for c in shown if c.school_id}),
        },
    ).one()  # fmt: skip
    linked: dict[int, int] = dict(after.linked)
    schools: dict[str, str] = dict(after.schools)
    return [
        RankedCandidate(
            r.sis_record_id, r.score, list(r.reasons), linked.get(r.sis_record_id), r.weight, r.agreement,
            r.tied, r.separating_fields, sis, schools.get(sis.school_id or ""),
        )
        for r, sis in zip(ranked, shown, strict=True)
    ]  # fmt: skip
