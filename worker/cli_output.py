"""How every `ale-sync` command prints: rich tables for people, JSON for scripts, one-line errors.

A table never cuts a cell: where even its narrowest layout is wider than the terminal (or the
80 columns of a pipe; COLUMNS overrides), each row prints as `column: value` lines instead, so ids
and statuses can always be copied whole. Times are shown in the machine's local time with its
zone; JSON keeps them as ISO 8601 with their offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def fail(reason: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return the Exit to raise."""
    err_console.print(f"ale-sync: {reason}", markup=False, highlight=False)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colour, no wrapping), for scripts."""
    typer.echo(json.dumps(value, indent=2, default=str))


@dataclass(frozen=True)
class Page:
    """One page of a longer list: how many rows in all, where the page starts, its rows."""

    total: int
    offset: int
    rows: list[dict[str, Any]]

    def caption(self) -> str:
        if not self.rows:
            return f"none of {self.total:,}"
        return f"{self.offset + 1:,}-{self.offset + len(self.rows):,} of {self.total:,}"


def print_rows(
    rows: list[dict[str, Any]] | Page,
    *,
    as_json: bool,
    title: str,
    columns: Sequence[str],
    cells: Callable[[dict[str, Any]], Sequence[str]],
    wrap: Sequence[str] = (),
) -> None:
    """The rows as JSON for scripts, or as a table for people (only the WRAP columns wrap); a Page
    prints as {"total", "offset", "rows"} and its table's title says which of how many it shows."""
    if isinstance(rows, Page):
        page, rows = rows, rows.rows
        if as_json:
            print_json({"total": page.total, "offset": page.offset, "rows": rows})
            return
        title = f"{title}: {page.caption()}"
    if as_json:
        print_json(rows)
        return
    table = new_table(title, columns, wrap=wrap)
    for row in rows:
        table.add_row(*cells(row))
    print_table(table)


def print_table(table: Table) -> None:
    """The table when it fits the width whole, else each row as `column: value` lines."""
    unbounded = console.options.update(max_width=1_000_000)  # measured whole, not clamped to the screen
    if Measurement.get(console, unbounded, table).minimum <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(str(table.title), markup=False, highlight=False)
    columns = table.columns
    for number, row in enumerate(zip(*(list(c.cells) for c in columns), strict=True)):
        if number:
            console.print()
        for column, cell in zip(columns, row, strict=True):
            console.print(f"{column.header}: {cell}", markup=False, highlight=False, soft_wrap=True)


def new_table(
    title: str | None, columns: Sequence[str], *, wrap: Sequence[str] = (), right: Sequence[str] = ()
) -> Table:
    """A table whose WRAP columns wrap at spaces and whose others keep to one line; a word wider
    than its column folds (never an ellipsis). RIGHT columns are right-aligned (counts)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(
            column,
            no_wrap=column not in wrap,
            overflow="fold",
            justify="right" if column in right else "left",
        )
    return table


def local_time(value: str | datetime | None) -> str:
    """An ISO 8601 time (or a datetime) in this machine's local time with its zone, e.g.
    2026-11-28 09:15 PST; "-" when there is none."""
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def age_text(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
