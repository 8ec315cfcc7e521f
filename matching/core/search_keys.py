"""Blocking keys for name search, computed identically here and in Postgres (the students trigger
that keeps search_last / search_first, and the ingest's statements, use `name_key_sql`).

Postgres here has no contrib extensions (no unaccent, pg_trgm or fuzzystrmatch), so the keys
are built from immutable built-ins only. A name is lower-cased and, unless it is plain ASCII,
decomposed (Unicode NFKD: é -> e + accent, ễ -> e + two marks, ﬁ -> fi) with the few Latin
letters that do not decompose spelt as one plain letter (ø -> o, ß -> s, æ -> a, ł -> l, ...);
then everything but a-z goes (accents, spaces, hyphens, apostrophes). `search_last` is the
whole surname so folded (García-López -> garcialopez, de la Cruz -> delacruz, Nguyễn ->
nguyen, Ștefănescu -> stefanescu), `search_first` the given name. They cost about two
microseconds a row, which the ingest spends in parallel workers (docs/matching.md, "Search by name").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# lower-case Latin letters with no decomposition, and the plain letter each is spelt with
UNDECOMPOSED = {"ø": "o", "đ": "d", "ł": "l", "ß": "s", "æ": "a", "œ": "o", "þ": "t", "ð": "d", "ı": "i"}
_SPELT = str.maketrans(UNDECOMPOSED)
_NOT_LETTER = re.compile(r"[^a-z]+")


@lru_cache(maxsize=131_072)
def name_key(text: str | None) -> str:
    """A name part folded to plain a-z with everything else (spaces, hyphens, apostrophes) removed."""
    lowered = (text or "").lower()
    if not lowered.isascii():
        lowered = unicodedata.normalize("NFKD", lowered).translate(_SPELT)
    return _NOT_LETTER.sub("", lowered)


def name_key_sql(column: str) -> str:
    """The SQL twin of `name_key` over one column or expression (immutable built-ins only).
    Plain ASCII (octet length = character length) skips the decomposition."""
    special, plain = "".join(UNDECOMPOSED), "".join(UNDECOMPOSED.values())
    folded = (
        f"CASE WHEN octet_length({column}) = char_length({column}) THEN lower({column})"
        f" ELSE translate(normalize(lower({column}), NFKD), '{special}', '{plain}') END"
    )
    return f"regexp_replace({folded}, '[^a-z]+', '', 'g')"
