"""Field comparisons: each field of a created record and an SIS record compared into a few named
levels, the way a registrar would describe the difference ("one letter off", "day and month
swapped"). The evidence model (matching/core/evidence.py) gives each level its weight.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

import jellyfish
from rapidfuzz.distance import DamerauLevenshtein

from matching.core.names import PARTICLES, are_direct_nicknames, are_nicknames, nickname_lexicon, tokens
from matching.core.typos import is_one_typo_away


class Level(StrEnum):
    """How two values of one field compare; not every field uses every level."""

    EQUAL = "equal"
    NICKNAME = "nickname"
    PART = "part of a compound"  # family name only: García and García-López
    ONE_EDIT = "one edit"  # a letter wrong, missing, extra, or two neighbours swapped
    TWO_EDITS = "two edits"
    SAME_SOUND = "same sound"
    INITIAL = "initial only"
    CLOSE = "close"  # birth date: one digit, two neighbouring digits, or day and month swapped
    YEAR = "year only"
    ONE_APART = "one apart"  # grade
    ONE_TYPO = "one typo"  # SSID: one digit wrong or two neighbours swapped
    TWO_DIGITS = "two digits"  # SSID: two digits wrong
    DIFFERENT = "different"
    MISSING = "missing"


@dataclass(frozen=True)
class NameComparison:
    """A name level, and whether the two names are each a name in its own right (Eric and Erin):
    then a near spelling is as likely a sibling as a slip."""

    level: Level
    distinct_names: bool = False


# names this short differ in one letter as often as they are one name (Li and Lu, Ana and Ava)
ONE_EDIT_MIN_LENGTH = 3
TWO_EDITS_MIN_LENGTH = 5


def _edit_level(a: str, b: str) -> Level | None:
    longest = max(len(a), len(b))
    distance = DamerauLevenshtein.distance(a, b, score_cutoff=2)
    if distance == 1 and longest >= ONE_EDIT_MIN_LENGTH:
        return Level.ONE_EDIT
    if distance == 2 and longest >= TWO_EDITS_MIN_LENGTH:
        return Level.TWO_EDITS
    return None


@lru_cache(maxsize=65_536)
def sound(word: str) -> str:
    """The Metaphone code of a folded word ("" for none)."""
    return jellyfish.metaphone(word) if word else ""


@lru_cache(maxsize=131_072)
def _spelling_level(a: str, b: str) -> Level:
    """Levels shared by given and family names once equality and nicknames are ruled out."""
    if len(a) == 1 or len(b) == 1:
        return Level.INITIAL if a[0] == b[0] else Level.DIFFERENT
    edits = _edit_level(a, b)
    if edits is not None:
        return edits
    return Level.SAME_SOUND if sound(a) and sound(a) == sound(b) else Level.DIFFERENT


_RANK = (Level.ONE_EDIT, Level.TWO_EDITS, Level.SAME_SOUND, Level.INITIAL, Level.DIFFERENT)


def compare_given(
    typed: str, actual: str, actual_middle: str | None = None, known: Container[str] = frozenset()
) -> NameComparison:
    """Given names; `known` holds given names of the district, to tell a slip from another name."""
    mine, theirs = tokens(typed), tokens(actual)
    if not mine or not theirs:
        return NameComparison(Level.MISSING)
    if "".join(mine) == "".join(theirs) or mine[0] == theirs[0]:
        return NameComparison(Level.EQUAL)
    first, other = mine[0], theirs[0]
    if are_direct_nicknames(first, other) or first in tokens(actual_middle):
        return NameComparison(Level.NICKNAME)
    level = _spelling_level(first, other)
    joined = _edit_level("".join(mine), "".join(theirs))  # Mary Ann and Maryanne
    if joined is not None and _RANK.index(joined) < _RANK.index(level):
        level = joined
    if level not in (Level.ONE_EDIT, Level.TWO_EDITS) and are_nicknames(first, other):
        # related only through a third name (Katie, Kathryn, Katherine; Carly, Carl)
        return NameComparison(Level.NICKNAME, distinct_names=True)
    return NameComparison(level, level is not Level.DIFFERENT and _other_name(first, other, known))


def _other_name(typed: str, actual: str, known: Container[str]) -> bool:
    """The typed given name is a name in its own right, not a spelling of the SIS one (Erin beside
    Eric, Paula beside Paul): a sibling's name more likely than a slip."""
    return is_known_given_name(typed, known) and spelling(typed) != spelling(actual)


_DOUBLED = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]{2,}")
_ENDING = re.compile(r"(ie|ey|i)$")


@lru_cache(maxsize=65_536)
def spelling(word: str) -> str:
    """One form for the spellings of one name: doubled letters single (Phillip, Philip), a run of
    vowels in one order (Neil, Niel; Michael, Micheal), a final -ie, -ey or -i as -y (Billie, Billy)."""
    single = _ENDING.sub("y", _DOUBLED.sub(r"\1", word))
    return _VOWELS.sub(lambda run: "".join(sorted(run.group())), single)


def _core(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w for w in words if w not in PARTICLES) or words


@lru_cache(maxsize=131_072)
def compare_family(typed: str, actual: str) -> NameComparison:
    """Family names: joined words (de la Cruz = Delacruz, Mac Kenzie = MacKenzie), particles, compounds."""
    mine, theirs = tokens(typed), tokens(actual)
    if not mine or not theirs:
        return NameComparison(Level.MISSING)
    if "".join(mine) == "".join(theirs) or "".join(_core(mine)) == "".join(_core(theirs)):
        return NameComparison(Level.EQUAL)
    core_mine, core_theirs = set(_core(mine)), set(_core(theirs))
    if core_mine <= core_theirs or core_theirs <= core_mine:
        return NameComparison(Level.PART)
    return NameComparison(_spelling_level("".join(mine), "".join(theirs)))


def is_known_given_name(word: str, known: Container[str]) -> bool:
    """A given name in its own right: carried by SIS records of the district, or in the names list."""
    return word in known or word in nickname_lexicon()


def compare_birth_date(typed: date | None, actual: date | None) -> Level:
    if typed is None or actual is None:
        return Level.MISSING
    if typed == actual:
        return Level.EQUAL
    if is_one_typo_away(typed.strftime("%Y%m%d"), actual.strftime("%Y%m%d")) or _day_month_swapped(
        typed, actual
    ):
        return Level.CLOSE
    return Level.YEAR if typed.year == actual.year else Level.DIFFERENT


def _day_month_swapped(typed: date, actual: date) -> bool:
    return typed.year == actual.year and (typed.day, typed.month) == (actual.month, actual.day)


_GRADE_WORDS = {"K": 0, "KG": 0, "KF": 0, "PK": -1, "TK": -1, "PS": -1, "PR": -1}


def grade_number(grade: str) -> int | None:
    """K is 0 and pre-kindergarten -1; 01 and 1 are one grade; anything else has no number."""
    value = grade.strip().upper()
    if value in _GRADE_WORDS:
        return _GRADE_WORDS[value]
    return int(value) if value.isdigit() else None


def compare_grade(typed: str | None, actual: str | None) -> Level:
    if not typed or not actual:
        return Level.MISSING
    mine, theirs = grade_number(typed), grade_number(actual)
    if typed.strip().upper() == actual.strip().upper() or (mine is not None and mine == theirs):
        return Level.EQUAL
    if mine is not None and theirs is not None and abs(mine - theirs) == 1:
        return Level.ONE_APART
    return Level.DIFFERENT


def compare_exact(typed: str | None, actual: str | None) -> Level:
    """School and Other ID: the same value or not."""
    if not typed or not actual:
        return Level.MISSING
    return Level.EQUAL if typed == actual else Level.DIFFERENT


def compare_ssid(typed: str | None, actual: str | None) -> Level:
    if not typed or not actual:
        return Level.MISSING
    if typed == actual:
        return Level.EQUAL
    if is_one_typo_away(typed, actual):
        return Level.ONE_TYPO
    wrong = sum(a != b for a, b in zip(typed, actual, strict=False))
    return Level.TWO_DIGITS if len(typed) == len(actual) and wrong == 2 else Level.DIFFERENT
