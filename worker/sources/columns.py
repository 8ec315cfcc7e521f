"""A staged CSV file's header, and SQL expressions that pick a column or a typed identifier from it.

Staging tables name their columns c1..cN (header names are untrusted text), so every
expression here refers to a position; column names are looked up without regard to case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.settings import IdentifierSource
from worker.sources.errors import DeliveryRejected


@dataclass(frozen=True)
class Header:
    names: list[str]
    rows: int = 0  # records staged from the file (0 for a header read on its own)

    def position(self, *names: str) -> int | None:
        wanted = [n.lower() for n in names]
        lowered = [n.strip().lower() for n in self.names]
        for name in wanted:
            if name in lowered:
                return lowered.index(name) + 1
        return None

    def column(self, alias: str, *names: str) -> str:
        """`alias.cK` for the first of NAMES the header has, else SQL NULL."""
        position = self.position(*names)
        return f"{alias}.c{position}" if position else "NULL::text"

    def missing(self, *required: str) -> list[str]:
        return [name for name in required if self.position(name) is None]

    def require(self, file_name: str, *required: str, also_missing: list[str] | None = None) -> None:
        """Reject the delivery whole when FILE_NAME lacks a required column."""
        missing = [*self.missing(*required), *(also_missing or [])]
        if missing:
            raise DeliveryRejected(
                "missing_columns", f"{file_name} lacks required columns: {', '.join(missing)}"
            )


def clean_header(names: list[str]) -> list[str]:
    """Trimmed names, without the empty names some exports leave after the last real column."""
    cleaned = [n.strip() for n in names]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return cleaned


def identifier_expression(
    header: Header, alias: str, source: IdentifierSource, param: str
) -> tuple[str, dict[str, str]]:
    """SQL for an identifier, and its bind parameters: a typed userIds entry ({SSID:…}) or a column."""
    if source.kind == "none":
        return "NULL::text", {}
    if source.kind == "user_ids":
        return typed_id_expression(header.column(alias, "userIds"), list(source.labels) or ["SSID"], param)
    return header.column(alias, source.column), {}


def typed_id_expression(column: str, labels: list[str], param: str) -> tuple[str, dict[str, str]]:
    """The value of the first typed entry in COLUMN whose type is one of LABELS, as the pattern
    `{ label : value }` finds it. The regular expression costs microseconds a row, so the usual
    shape (the first `{` opens `{label:` with no spaces) is cut out with plain string functions,
    which give the same value; anything else goes to the pattern."""
    pattern = r"\{\s*(?:" + "|".join(re.escape(label) for label in labels) + r")\s*:\s*([^}]*)\}"
    params = {param: pattern}
    first = f"strpos({column}, '{{')"
    cases = [f"WHEN {first} = 0 THEN NULL"]
    for number, label in enumerate(labels):
        key = f"{param}_{number}"
        params[key] = "{" + label + ":"
        opened = f"strpos({column}, :{key})"
        rest = f"substr({column}, {opened} + {len(label) + 2})"
        value = f"CASE WHEN strpos({rest}, '}}') > 0 THEN split_part({rest}, '}}', 1) END"
        cases.append(f"WHEN {opened} = {first} THEN {value}")
    cases.append(f"ELSE substring({column} from :{param})")
    return f"CASE {' '.join(cases)} END", params
