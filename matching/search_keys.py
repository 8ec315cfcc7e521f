"""Blocking keys for name search, computed identically here and by Postgres generated columns.

Postgres here has no contrib extensions (no unaccent, pg_trgm or fuzzystrmatch), so the keys
are built from immutable built-ins only: `translate` folds the accented Latin letters, `lower`
and `regexp_replace` keep a-z. `surname_sound` is a consonant skeleton (first letter, then
consonants with c/k/q, z/s and v/f merged and repeats collapsed) that catches most misspelt
surnames (Smyth = Smith, Katz = Cats). The Python functions mirror the SQL exactly; an
integration test compares the two on awkward names.
"""

from __future__ import annotations

import re
import unicodedata


def _accent_table() -> tuple[str, str]:
    """Accented Latin letters (U+00C0-U+017F) and the plain letter each folds to."""
    source, target = [], []
    for code in range(0xC0, 0x180):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch.lower()) if not unicodedata.combining(c))
        plain = {"ø": "o", "đ": "d", "ł": "l", "ß": "s", "æ": "a", "œ": "o", "þ": "t", "ð": "d", "ı": "i"}
        base = plain.get(base, base)
        if len(base) == 1 and "a" <= base <= "z":
            source.append(ch)
            target.append(base)
    return "".join(source), "".join(target)


ACCENTED, PLAIN = _accent_table()
_FOLD = str.maketrans(ACCENTED, PLAIN)
_NOT_LETTER = re.compile(r"[^a-z]")
_SOUND_MERGE = str.maketrans("ckqzv", "kkksf")
_VOWELISH = re.compile(r"[aeiouyhw]")
_REPEATS = re.compile(r"(.)\1+")


def name_key(text: str | None) -> str:
    """A name part folded to plain a-z with everything else (spaces, hyphens, apostrophes) removed."""
    return _NOT_LETTER.sub("", (text or "").translate(_FOLD).lower())


def surname_sound(text: str | None) -> str:
    """The consonant skeleton of a name part, for misspelt surnames."""
    merged = name_key(text).translate(_SOUND_MERGE)
    return _REPEATS.sub(r"\1", merged[:1] + _VOWELISH.sub("", merged[1:]))


def name_key_sql(column: str) -> str:
    """The SQL twin of `name_key` over one column (immutable, so usable in a generated column)."""
    return f"regexp_replace(lower(translate({column}, '{ACCENTED}', '{PLAIN}')), '[^a-z]', '', 'g')"


def surname_sound_sql(column: str) -> str:
    """The SQL twin of `surname_sound`."""
    merged = f"translate({name_key_sql(column)}, 'ckqzv', 'kkksf')"
    skeleton = f"left({merged}, 1) || regexp_replace(substr({merged}, 2), '[aeiouyhw]', '', 'g')"
    return f"regexp_replace({skeleton}, '(.)\\1+', '\\1', 'g')"
