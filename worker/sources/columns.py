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
        labels = "|".join(re.escape(label) for label in source.labels) or "SSID"
        pattern = r"\{\s*(?:" + labels + r")\s*:\s*([^}]*)\}"
        return f"substring({header.column(alias, 'userIds')} from :{param})", {param: pattern}
    return header.column(alias, source.column), {}
