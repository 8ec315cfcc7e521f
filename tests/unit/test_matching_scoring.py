"""Ranking for search by name: the name leads, known facts adjust, every adjustment is explained."""

from __future__ import annotations

from datetime import date

from matching.core.records import CreatedRecord, PersonName, SisCandidate
from matching.core.scoring import rank

ANA = PersonName("Ana", "Reyes")


def test_the_same_name_and_birth_date_outranks_the_same_name_alone() -> None:
    typed = CreatedRecord(1, "d", ANA, birth_date=date(2019, 5, 5))
    same_day = rank(typed, SisCandidate(2, "d", ANA, birth_date=date(2019, 5, 5)))
    unknown = rank(typed, SisCandidate(3, "d", ANA))
    other_day = rank(typed, SisCandidate(4, "d", ANA, birth_date=date(2015, 1, 1)))
    assert same_day.score > unknown.score > other_day.score
    assert "birth date matches" in same_day.reasons
    assert "birth date differs" in other_day.reasons
    assert not any("birth" in reason for reason in unknown.reasons)


def test_grade_and_school_count_only_when_both_records_know_them() -> None:
    typed = CreatedRecord(1, "d", ANA, grade="K", school_id="sch-1")
    both = rank(typed, SisCandidate(2, "d", ANA, grade="K", school_id="sch-1"))
    neither = rank(CreatedRecord(1, "d", ANA), SisCandidate(2, "d", ANA, grade="K", school_id="sch-1"))
    assert both.score > neither.score
    assert {"grade matches", "school matches"} <= set(both.reasons)


def test_a_perfect_match_scores_one_and_a_stranger_scores_low() -> None:
    facts = {"birth_date": date(2019, 5, 5), "grade": "K", "school_id": "s"}
    assert rank(CreatedRecord(1, "d", ANA, **facts), SisCandidate(2, "d", ANA, **facts)).score == 1.0
    stranger = SisCandidate(3, "d", PersonName("Marcus", "Okafor"))
    assert rank(CreatedRecord(1, "d", ANA), stranger).score < 0.35  # unknown facts give half credit
