"""Name normalisation and corroboration: the variants a registrar would call the same child."""

from __future__ import annotations

import pytest

from matching.core.names import are_nicknames, fold, name_similarity, tokens
from matching.core.records import PersonName as P

LINK = 0.85
CLEARLY_DIFFERENT = 0.60  # far below the link threshold, not merely under it


@pytest.mark.parametrize(
    ("typed", "sis"),
    [
        (P("jose", "GARCIA"), P("José", "García")),  # case and diacritics
        (P("Sean", "OBrien"), P("Seán", "O'Brien")),  # apostrophe
        (P("Ana", "García"), P("Ana", "García-López")),  # hyphenated compound surname
        (P("Luis", "Delacruz"), P("Luis", "de la Cruz")),  # compound surname written as one word
        (P("Luis", "Cruz"), P("Luis", "de la Cruz")),  # particles left out
        (P("Mary", "Jones"), P("Mary", "Jones", "Ann")),  # middle name absent
        (P("Mary Ann", "Jones"), P("Mary", "Jones", "Ann")),  # middle name typed into the first name
        (P("Bill", "Smith"), P("William", "Smith")),  # nickname
        (P("Katie", "Ng"), P("Katherine", "Ng")),  # nickname through a shared short form
        (P("Nguyen", "Linh"), P("Linh", "Nguyen")),  # given and family swapped
        (P("Zoë", "Søren"), P("Zoe", "Soren")),  # letters Unicode does not decompose
        (P("Martin", "Luther Jr."), P("Martin", "Luther")),  # generation suffix
    ],
)
def test_variants_of_one_childs_name_corroborate(typed: P, sis: P) -> None:
    assert name_similarity(typed, sis).score >= LINK


@pytest.mark.parametrize(
    ("typed", "sis"),
    [
        (P("Emma", "Lee"), P("Ella", "Lee")),  # twins: same surname, similar given names
        (P("Noah", "Patel"), P("Liam", "Patel")),  # siblings
        (P("Ana", "Reyes"), P("Marcus", "Okafor")),  # a mistyped id that hits another child
        (P("Katherine", "Ng"), P("Helena", "Ng")),  # full names that only share a nickname (Lena)
        (P("J", "Smith"), P("Jacob", "Smith")),  # an initial is not enough
    ],
)
def test_names_of_different_children_do_not_corroborate(typed: P, sis: P) -> None:
    assert name_similarity(typed, sis).score < LINK


def test_clearly_different_children_score_far_below_the_link_threshold() -> None:
    assert name_similarity(P("Ana", "Reyes"), P("Marcus", "Okafor")).score < CLEARLY_DIFFERENT


def test_every_score_is_explained_without_naming_anyone() -> None:
    score = name_similarity(P("Bill", "Smith"), P("William", "Smith"))
    assert score.reasons == ("given name is a known nickname", "family name identical")
    assert not any(part in " ".join(score.reasons).lower() for part in ("bill", "william", "smith"))


def test_folding_removes_accents_and_spells_out_ligatures() -> None:
    assert fold("ÉlodieÆßø") == "elodieaesso"
    assert tokens("  O'Brien-Smith  Jr ") == ("obrien", "smith")


def test_nicknames_are_related_both_ways_but_unrelated_names_are_not() -> None:
    assert are_nicknames("bill", "william")
    assert are_nicknames("william", "bill")
    assert not are_nicknames("emma", "ella")


def test_two_short_forms_of_one_name_are_not_taken_for_one_child() -> None:
    assert not are_nicknames("bob", "bill")  # both Robert: as often two brothers as one boy
    assert are_nicknames("katie", "kathy")  # Kathryn's short forms, spelt alike
