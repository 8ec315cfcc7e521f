"""`ale-sync pause add|list|remove`: a district's blackout windows and summer pause.

Times are the district's wall clock (its time zone, or DISTRICT_TIMEZONE); a pause skips the
district's pulls or holds what they deliver for `ale-sync batches approve|reject`.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from models.db import transaction
from models.pause import PauseAction, PauseKind
from worker.cli_ops import DistrictOption, JsonOption
from worker.cli_output import console, fail, print_json, print_rows
from worker.pauses import NewPause, PauseRefused, add_pause, pause_row, pause_rows, remove_pause, window_bound

pause_app = typer.Typer(
    help="Pause a district's sync: blackout windows and a summer pause, in the district's time zone.",
    no_args_is_help=True,
)

WHEN_HELP = "a date (2026-06-20) or a local date and time (2026-06-20T18:00)"


@pause_app.command("add")
def pause_add(
    district: Annotated[str, typer.Argument(help="The district's code.")],
    *,
    starts: Annotated[str, typer.Option("--from", help=f"First moment paused: {WHEN_HELP}.")],
    until: Annotated[str, typer.Option("--until", help=f"A date pauses through that day; or {WHEN_HELP}.")],
    kind: Annotated[PauseKind, typer.Option("--kind", help="What the pause is for.")] = PauseKind.BLACKOUT,
    action: Annotated[
        PauseAction,
        typer.Option("--action", help="skip: leave the sources unread; hold: read them, hold what arrives."),
    ] = PauseAction.SKIP,
    note: Annotated[str | None, typer.Option("--note", help="Why (shown to ops and staff).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a pause; pulls in the window are skipped or held for review."""
    now = datetime.now(UTC)
    try:
        pause = NewPause(
            district,
            kind,
            action,
            window_bound(starts, end=False),
            window_bound(until, end=True),
            note,
            getpass.getuser(),
        )
        with transaction() as session:
            row = pause_row(add_pause(session, pause), now)
    except PauseRefused as refused:
        raise fail(str(refused), 2) from None
    if as_json:
        print_json(row)
        return
    console.print(
        f"pause {row['pause_id']} added: district {district} {row['kind']} ({row['action']}) "
        f"from {row['starts_at']} until {row['ends_at']}",
        markup=False,
        highlight=False,
    )


@pause_app.command("list")
def pause_list(
    district: DistrictOption = None,
    ended: Annotated[bool, typer.Option("--ended", help="Also list pauses that have ended.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List pauses in force and upcoming (and ended ones with --ended), in each district's local time."""
    with transaction() as session:
        rows = pause_rows(session, datetime.now(UTC), district, ended=ended)

    def cells(row: dict[str, Any]) -> list[str]:
        return [
            str(row["pause_id"]),
            row["district_id"],
            row["kind"],
            row["action"],
            row["starts_at"],
            row["ends_at"],
            row["state"],
            row["note"] or "-",
        ]

    columns = ("id", "district", "kind", "action", "from", "until", "state", "note")
    print_rows(rows, as_json=as_json, title="sync pauses", columns=columns, cells=cells, wrap=["note"])


@pause_app.command("remove")
def pause_remove(pause_id: Annotated[int, typer.Argument(help="The pause's id (see `pause list`).")]) -> None:
    """Remove a pause; one in force ends now (deliveries it held stay held for ops to decide)."""
    try:
        with transaction() as session:
            removed = remove_pause(session, pause_id)
    except PauseRefused as refused:
        raise fail(str(refused)) from None
    console.print(f"pause {pause_id} removed: district {removed['district_id']} {removed['kind']}")
