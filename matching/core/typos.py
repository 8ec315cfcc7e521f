"""SSID typos: the ids one mistyped digit or one swapped adjacent pair away from a given id."""

from __future__ import annotations

DIGITS = "0123456789"


def ssid_typo_variants(ssid: str) -> frozenset[str]:
    """Every id one substitution or one adjacent transposition away (the id itself excluded)."""
    variants: set[str] = set()
    for i, ch in enumerate(ssid):
        for digit in DIGITS:
            if digit != ch:
                variants.add(ssid[:i] + digit + ssid[i + 1 :])
        if i + 1 < len(ssid) and ssid[i + 1] != ch:
            variants.add(ssid[:i] + ssid[i + 1] + ch + ssid[i + 2 :])
    return frozenset(variants)


def is_one_typo_away(typed: str, actual: str) -> bool:
    """True when `actual` differs from `typed` by one substitution or one adjacent transposition."""
    if len(typed) != len(actual) or typed == actual:
        return False
    diffs = [i for i, (a, b) in enumerate(zip(typed, actual, strict=True)) if a != b]
    if len(diffs) == 1:
        return True
    first, *rest = diffs
    return (
        len(diffs) == 2
        and rest[0] == first + 1
        and typed[first] == actual[first + 1]
        and typed[first + 1] == actual[first]
    )
