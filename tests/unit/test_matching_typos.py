"""SSID typo neighbours: one substitution or one adjacent transposition, nothing further."""

from __future__ import annotations

import pytest

from matching.core.typos import is_one_typo_away, ssid_typo_variants


def test_a_ten_digit_ssid_has_ninety_substitutions_plus_its_distinct_adjacent_swaps() -> None:
    variants = ssid_typo_variants("0123456789")
    assert len(variants) == 90 + 9
    assert "0123456789" not in variants
    assert "1023456789" in variants
    assert "0123456780" in variants


def test_swapping_two_equal_digits_is_not_a_variant() -> None:
    assert len(ssid_typo_variants("0000000000")) == 90


@pytest.mark.parametrize(
    ("typed", "actual", "expected"),
    [
        ("0123456789", "0123456788", True),  # one substitution
        ("0123456789", "0123456798", True),  # adjacent digits swapped
        ("0123456789", "0123456789", False),  # identical: not a typo
        ("0123456789", "0123456700", False),  # two substitutions
        ("0123456789", "9123456780", False),  # distant digits swapped
        ("0123456789", "012345678", False),  # a digit missing
    ],
)
def test_one_typo_away_agrees_with_the_variant_set(typed: str, actual: str, expected: bool) -> None:
    assert is_one_typo_away(typed, actual) is expected
    assert (actual in ssid_typo_variants(typed)) is expected
