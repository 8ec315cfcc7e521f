"""What staff typed into a name search box, read as the ways it can name a student.

Pure: the query's words become name keys (plain a-z, as `search_last` / `search_first` hold them,
matching/core/search_keys.py), then readings: which words make the surname (a run of words
joined, so "st john", "st. john" and "de los santos" reach St. John and De los Santos), which
begin the given name, with the particles left out ("de los santos" also finds Santos) or put in
("santos" also finds De los Santos, "brien" O'Brien), and a word alone as a given name ("ava").
A leading name typed with a second one is read as itself and as the longer names it begins
("nguyen thi": Nguyen, then Nguyenvan...), so that both names are index ranges.
Each reading is an index range, written here as SQL text over the keys (plain a-z, so safe to
write into a statement); admin/selector.py and admin/unlinked_table.py run them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import IntEnum

from matching.core.names import PARTICLES, tokens
from matching.core.search_keys import name_key

MAX_WORDS = 4
# what a surname may begin with that a registrar may leave out when typing it
SURNAME_PREFIXES = (
    *sorted(PARTICLES),
    *("dela", "delas", "delos", "della", "vanden", "vander"),
    *("le", "st", "saint", "o", "mc", "mac", "al", "el"),
)
KEY = re.compile(r"^[a-z]*$")


class Order(IntEnum):
    """Which name orders a reading's results (and which index serves it): surname first, then
    the students found by their given name alone."""

    SURNAME = 0
    GIVEN = 1


class Lead(IntEnum):
    """How the leading name (the surname, or the given name for Order.GIVEN) is matched."""

    BEGINS = 0  # begins with the key
    IS = 1  # is the key: with a second name typed, both are index ranges, so a page reads a page
    LONGER = 2  # begins with the key and is longer (compound surnames: garcialopez for garcia)
    ONE_OF = 3  # is one of the keys (surnames with a particle put in: few, read whole)


@dataclass(frozen=True, order=True)
class Reading:
    """Students whose surname key begins with one of `lasts` and whose given-name key begins with
    `first` (an empty prefix allows any); `lead` says how the leading name is matched."""

    order: Order
    lasts: tuple[str, ...]
    first: str
    lead: Lead = Lead.BEGINS


def words(query: str) -> list[str]:
    """The query's words as name keys: apostrophes join (o'brien), other punctuation splits (st.)."""
    keys = (name_key(word) for word in tokens(query.replace(",", " ")))
    return [key for key in keys if key][:MAX_WORDS]


def readings(query: str) -> list[Reading]:
    """Every reading of the query, without repeats; none for a query with no letters."""
    keys = words(query)
    found: set[Reading] = set()
    for variant in _variants(keys):
        found.update(_surname_readings(variant))
    if len(keys) == 1:  # with more words, the surname readings already cover it
        found.add(Reading(Order.GIVEN, ("",), keys[0]))
    return sorted({split for reading in found for split in _split(reading)})


def _split(reading: Reading) -> list[Reading]:
    """A leading name that only begins, with a second name typed, as two readings: the name
    itself (both names index ranges) and the longer names that begin with it."""
    second = reading.first if reading.order is Order.SURNAME else reading.lasts[0]
    if reading.lead is not Lead.BEGINS or len(reading.lasts) != 1 or not second:
        return [reading]
    return [replace(reading, lead=Lead.IS), replace(reading, lead=Lead.LONGER)]


def _variants(keys: list[str]) -> list[list[str]]:
    """The words as typed, and without their particles when there are other words."""
    kept = [k for k in keys if k not in PARTICLES]
    return [keys, kept] if kept and kept != keys else [keys]


def _surname_readings(keys: list[str]) -> set[Reading]:
    """A run of consecutive words joined as the surname; the other words begin the given name.
    A lone initial never stands for the surname of a longer query ("garcia a")."""
    out: set[Reading] = set()
    for start in range(len(keys)):
        for end in range(start + 1, len(keys) + 1):
            last, rest = "".join(keys[start:end]), keys[:start] + keys[end:]
            if len(last) == 1 and rest:
                continue
            first = "".join(rest)
            out.update(Reading(Order.SURNAME, (surname,), first) for surname in _spellings(keys[start:end]))
            if len(keys) == 1 and len(last) >= 3 and last not in SURNAME_PREFIXES:
                # one reading for all of them, each the whole surname: few to plan, few to read
                out.add(Reading(Order.SURNAME, tuple(p + last for p in SURNAME_PREFIXES), first, Lead.ONE_OF))
    return out


def _spellings(run: list[str]) -> set[str]:
    """The run joined, and St. <-> Saint."""
    joined, tail = "".join(run), "".join(run[1:])
    if run[0] == "st" and tail:
        return {joined, "saint" + tail}
    if run[0] == "saint" and tail:
        return {joined, "st" + tail}
    return {joined}


def _begins(column: str, prefixes: tuple[str, ...]) -> str | None:
    # keys are plain a-z (checked), written into the statement so that each is an index range in
    # C collation even under a reused prepared plan
    if any(not p for p in prefixes):
        return None
    if not all(KEY.fullmatch(p) for p in prefixes):
        raise ValueError("a name key holds more than a-z")
    return "(" + " OR ".join(f"{column} LIKE '{p}%'" for p in prefixes) + ")"


def _is_one_of(column: str, keys: tuple[str, ...]) -> str:
    if not all(KEY.fullmatch(k) and k for k in keys):
        raise ValueError("a name key holds more than a-z")
    return "(" + " OR ".join(f"{column} = '{k}'" for k in keys) + ")"


def _longer(column: str, keys: tuple[str, ...]) -> str:
    return f"({_begins(column, keys)} AND {column} > '{keys[0]}')"


_LEADS = {Lead.BEGINS: _begins, Lead.IS: _is_one_of, Lead.LONGER: _longer, Lead.ONE_OF: _is_one_of}


def reading_condition(reading: Reading) -> str:
    """SQL true for a student (table alias `s`) that the reading names."""
    if reading.order is Order.SURNAME:
        parts = [
            _LEADS[reading.lead]("s.search_last", reading.lasts),
            _begins("s.search_first", (reading.first,)),
        ]
    else:
        parts = [
            _LEADS[reading.lead]("s.search_first", (reading.first,)),
            _begins("s.search_last", reading.lasts),
        ]
    return " AND ".join(p for p in parts if p) or "TRUE"


def any_reading_condition(query: str) -> str:
    """SQL true for a student that any reading of the query names (FALSE when it has no letters)."""
    return " OR ".join(f"({reading_condition(r)})" for r in readings(query)) or "FALSE"
