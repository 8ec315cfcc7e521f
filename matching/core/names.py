"""Name normalisation and corroboration: would a person call these two names the same child?

Normalisation folds case and diacritics (José = Jose), drops apostrophes (O'Brien = OBrien),
splits hyphenated and compound surnames into tokens and drops generation suffixes (Jr, III).
Corroboration compares given and family names separately, takes the weaker of the two (twins
share a surname, so a shared surname alone proves nothing), accepts nicknames from the
`nicknames` dataset (Bill = William), a missing middle name, and given/family swapped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz.distance import Indel, JaroWinkler

from matching.core.records import PersonName

# letters that Unicode does not decompose into a base letter plus accents
_LIGATURES = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
_APOSTROPHES = re.compile(r"['’‘`ʼ]")
_SEPARATORS = re.compile(r"[^a-z]+")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
# surname particles: "de la Cruz" and "Cruz" may be the same family name
PARTICLES = frozenset({"de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "du", "van", "von"})


def fold(text: str) -> str:
    """Lower case, accents removed, ligatures spelt out; other characters kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(_LIGATURES.get(ch, ch) for ch in plain)


@lru_cache(maxsize=65_536)
def tokens(text: str | None) -> tuple[str, ...]:
    """The words of a name part after folding; apostrophes join, any other punctuation splits."""
    if not text:
        return ()
    words = _SEPARATORS.split(_APOSTROPHES.sub("", fold(text)))
    return tuple(w for w in words if w and w not in _SUFFIXES)


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=4096)
def relatives(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """The nicknames of a given name and the names it is a nickname of."""
    namer = _nicknamer()
    return frozenset(namer.nicknames_of(name)), frozenset(namer.canonicals_of(name))


def _direct(a: str, b: str) -> bool:
    nick_a, canon_a = relatives(a)
    return b in nick_a or b in canon_a


def are_direct_nicknames(a: str, b: str) -> bool:
    """One name is listed as a nickname of the other (Bill and William), not merely related."""
    return _direct(a, b) or _direct(b, a)


@lru_cache(maxsize=65_536)
def are_nicknames(a: str, b: str) -> bool:
    """Bill and William; Katie and Katherine (Katie is short for Kathryn, a spelling of Katherine).

    Names that are merely both short for one name (Bob and Bill, both Robert) are not accepted:
    they are as often two siblings as one child.
    """
    if _direct(a, b) or _direct(b, a):
        return True
    _, canon_a = relatives(a)
    _, canon_b = relatives(b)
    spelt_alike = JaroWinkler.normalized_similarity
    return any(spelt_alike(c, b) >= 0.9 for c in canon_a) or any(spelt_alike(c, a) >= 0.9 for c in canon_b)


@dataclass(frozen=True)
class NameScore:
    """How alike two names are (0..1) and why, in words that name no one."""

    score: float
    reasons: tuple[str, ...]


def _given_score(a: PersonName, b: PersonName) -> tuple[float, str]:
    first_a, first_b = tokens(a.first), tokens(b.first)
    if not first_a or not first_b:
        return 0.0, "given name missing"
    if "".join(first_a) == "".join(first_b) or first_a[0] == first_b[0]:
        return 1.0, "given name identical"
    if are_nicknames(first_a[0], first_b[0]):
        return 0.95, "given name is a known nickname"
    if first_a[0] in tokens(b.middle) or first_b[0] in tokens(a.middle):
        return 0.9, "goes by the middle name"
    if len(first_a[0]) == 1 or len(first_b[0]) == 1:
        initial = first_a[0][0] == first_b[0][0]
        return (0.7, "given name initial only") if initial else (0.0, "given name differs")
    similarity = Indel.normalized_similarity(first_a[0], first_b[0])
    return similarity, "given name spelt similarly" if similarity >= 0.8 else "given name differs"


def _family_score(a: PersonName, b: PersonName) -> tuple[float, str]:
    last_a, last_b = tokens(a.last), tokens(b.last)
    if not last_a or not last_b:
        return 0.0, "family name missing"
    if "".join(last_a) == "".join(last_b):
        return 1.0, "family name identical"
    core_a = [t for t in last_a if t not in PARTICLES] or list(last_a)
    core_b = [t for t in last_b if t not in PARTICLES] or list(last_b)
    if "".join(core_a) == "".join(core_b):
        return 0.97, "family name identical without particles"
    if set(core_a) <= set(core_b) or set(core_b) <= set(core_a):
        return 0.92, "one family name is part of the other (compound surname)"
    similarity = JaroWinkler.normalized_similarity("".join(last_a), "".join(last_b))
    return similarity, "family name spelt similarly" if similarity >= 0.85 else "family name differs"


def _ordered_score(a: PersonName, b: PersonName) -> NameScore:
    given, why_given = _given_score(a, b)
    family, why_family = _family_score(a, b)
    return NameScore(round(min(given, family), 4), (why_given, why_family))


def name_similarity(a: PersonName, b: PersonName) -> NameScore:
    """Corroboration score: the weaker of given and family, also tried with given/family swapped."""
    straight = _ordered_score(a, b)
    if straight.score == 1.0:
        return straight
    swapped_b = PersonName(first=b.last, last=b.first, middle=b.middle)
    swapped = _ordered_score(a, swapped_b)
    swapped = NameScore(round(swapped.score * 0.97, 4), ("given and family name swapped", *swapped.reasons))
    return straight if straight.score >= swapped.score else swapped


@lru_cache(maxsize=1)
def nickname_lexicon() -> frozenset[str]:
    """Every given name and nickname the nicknames dataset knows, folded."""
    namer = _nicknamer()
    return frozenset(namer.nickname_lookup) | frozenset(namer.canonical_lookup)
