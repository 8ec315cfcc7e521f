"""Labelled created-vs-SIS name pairs, and the auto-link precision and recall they give.

Real names from ../shared/data/edfi-grand-bend/students.csv (read in place) become SIS
records; each yields generated created-record names that a registrar might type for the same
child (accents dropped, apostrophes, compound surnames, middle names, nicknames, swapped
order, one slip of the keyboard) and for a different child that a mistyped id could hit
(another student; a twin with the same surname and birth date; a sibling). The name score
decides alone here, as it does once an id has matched one record. Run:

    python bench/labelled_pairs.py [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from config.settings import get_settings
from matching.core.decide import is_sibling_shape
from matching.core.evidence import weigh
from matching.core.names import name_similarity, relatives
from matching.core.records import CreatedRecord, PersonName, SisCandidate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "edfi-grand-bend" / "students.csv"
ACCENTS = str.maketrans("aeiounc", "áéíóúñç")


@dataclass(frozen=True)
class Pair:
    typed: PersonName
    sis: PersonName
    same_child: bool
    kind: str


def load_students(path: Path = DATA) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _sis_name(row: dict[str, str]) -> PersonName:
    return PersonName(row["FirstName"], row["LastSurname"], row["MiddleName"] or None)


def _slip(word: str, rng: random.Random) -> str:
    """One keyboard slip: a letter doubled, dropped or two neighbours swapped."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("double", "drop", "swap"))
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _nickname(first: str, rng: random.Random) -> str | None:
    nicknames, canonicals = relatives(first.lower())
    options = sorted(nicknames | canonicals)
    return rng.choice(options).title() if options else None


def same_child_variants(row: dict[str, str], other_surname: str, rng: random.Random) -> list[Pair]:
    """Names staff might type for this very child."""
    sis = _sis_name(row)
    first, last = sis.first, sis.last
    variants = {
        "exact": PersonName(first, last),
        "case": PersonName(first.upper(), last.lower()),
        "accents added": PersonName(first.translate(ACCENTS), last.translate(ACCENTS)),
        "apostrophe": PersonName(first, f"{last[0]}'{last[1:]}"),
        "spaces dropped": PersonName(first, last.replace(" ", "")),
        "compound surname typed": PersonName(first, f"{last}-{other_surname}"),
        "middle name typed": PersonName(f"{first} {sis.middle}" if sis.middle else first, last),
        "given and family swapped": PersonName(last, first),
        "slip in given name": PersonName(_slip(first, rng), last),
        "slip in family name": PersonName(first, _slip(last, rng)),
    }
    nickname = _nickname(first, rng)
    if nickname:
        variants["nickname"] = PersonName(nickname, last)
    return [Pair(typed, sis, True, kind) for kind, typed in variants.items()]


def other_child_pairs(row: dict[str, str], others: list[dict[str, str]], rng: random.Random) -> list[Pair]:
    """Names of a different child whose record a mistyped id could hit."""
    sis = _sis_name(row)
    stranger = _sis_name(rng.choice(others))
    different_first = [o["FirstName"] for o in others if o["FirstName"].lower() != sis.first.lower()]
    same_initial = [f for f in different_first if f[0].lower() == sis.first[0].lower()] or different_first
    return [
        Pair(PersonName(stranger.first, stranger.last), sis, False, "another student"),
        Pair(PersonName(rng.choice(same_initial), sis.last), sis, False, "twin (same surname, same initial)"),
        Pair(PersonName(rng.choice(different_first), sis.last), sis, False, "sibling (same surname)"),
    ]


def labelled_pairs(seed: int = 7) -> list[Pair]:
    rng = random.Random(seed)
    students = load_students()
    surnames = [s["LastSurname"] for s in students]
    pairs: list[Pair] = []
    for row in students:
        pairs += same_child_variants(row, rng.choice(surnames), rng)
        pairs += other_child_pairs(row, students, rng)
    return pairs


@dataclass(frozen=True)
class Measure:
    threshold: float
    precision: float
    recall: float
    wrong_links: int
    links: int


def measure(pairs: list[Pair], threshold: float) -> Measure:
    scored = [(name_similarity(p.typed, p.sis).score, p.same_child) for p in pairs]
    true_links = sum(1 for s, same in scored if s >= threshold and same)
    wrong = sum(1 for s, same in scored if s >= threshold and not same)
    positives = sum(1 for _, same in scored if same)
    links = true_links + wrong
    return Measure(threshold, true_links / links if links else 1.0, true_links / positives, wrong, links)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pairs = labelled_pairs(args.seed)
    kinds = Counter((p.kind, p.same_child) for p in pairs)
    print(f"{len(pairs)} labelled pairs from {DATA.name}: {sum(p.same_child for p in pairs)} same child")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'wrong links':>11}")
    for threshold in (0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.95):
        m = measure(pairs, threshold)
        print(f"{m.threshold:>9.2f} {m.precision:>9.4f} {m.recall:>7.4f} {m.wrong_links:>11}")
    link = get_settings().match_link_weight
    print(f"\nconfigured: an SSID match links at {link:.1f} bits of evidence (names + SSID)")
    print(f"{'':6}{'kind':<36} {'linked':>7} {'held':>6}")
    for (kind, same), n in sorted(kinds.items(), key=lambda item: (not item[0][1], item[0][0])):
        linked = sum(_links_on_ssid(p, link) for p in pairs if p.kind == kind) / n
        print(f"{'same' if same else 'other':<6}{kind:<36} {linked:>7.1%} {1 - linked:>6.1%}")


def _links_on_ssid(pair: Pair, link: float) -> bool:
    """Whether the evidence model links the typed name to the SIS name when the SSIDs agree."""
    typed = CreatedRecord(1, "d", pair.typed, ssid="0123456789")
    evidence = weigh(typed, SisCandidate(2, "d", pair.sis, ssid="0123456789"))
    return not is_sibling_shape(evidence) and evidence.weight >= link


if __name__ == "__main__":
    main()
