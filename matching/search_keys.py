"""Blocking keys for name search, computed identically here and by Postgres generated columns.

Postgres here has no contrib extensions (no unaccent, pg_trgm or fuzzystrmatch), so the keys
are built from immutable built-ins only: `translate` folds the accented Latin letters (only
for names that are not plain ASCII: `translate` with a long map is the costly part),
`lower` and `regexp_replace` keep a-z. `search_last` is the whole surname so folded
(García-López -> garcialopez, de la Cruz -> delacruz), `search_first` the given name so
folded. Ingest pays a couple of microseconds a row for them (README, "Matching").
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
_NOT_LETTER = re.compile(r"[^a-z]+")


def name_key(text: str | None) -> str:
    """A name part folded to plain a-z with everything else (spaces, hyphens, apostrophes) removed."""
    return _NOT_LETTER.sub("", (text or "").translate(_FOLD).lower())


def _folded_sql(column: str) -> str:
    # plain ASCII (octet length = character length) skips the long translate
    return (
        f"CASE WHEN octet_length({column}) = char_length({column}) THEN {column}"
        f" ELSE translate({column}, '{ACCENTED}', '{PLAIN}') END"
    )


def name_key_sql(column: str) -> str:
    """The SQL twin of `name_key` over one column (immutable, so usable in a generated column)."""
    return f"regexp_replace(lower({_folded_sql(column)}), '[^a-z]+', '', 'g')"
