"""`ale-sync district add|list`: districts provisioned before their SIS delivers anything."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from models.db import transaction
from models.district import DEFAULT_TIMEZONE
from worker.cli_ops import JsonOption
from worker.cli_output import console, fail, local_time, print_json, print_rows
from worker.provisioning import ProvisionRefused, add_district, district_rows

district_app = typer.Typer(
    help="Districts: provision one (its staff and created records can start before its SIS delivers), "
    "list them.",
    no_args_is_help=True,
)


@district_app.command("add")
def district_add(
    code: Annotated[str, typer.Argument(help="The state's district code, e.g. 17001.")],
    name: Annotated[str, typer.Option("--name", help="The district's name as staff know it.")],
    timezone: Annotated[
        str, typer.Option("--timezone", help="IANA time zone for the district's local dates and times.")
    ] = DEFAULT_TIMEZONE,
    as_json: JsonOption = False,
) -> None:
    """Provision a district (exit 0 also when it is already there as given, 1 when it differs)."""
    try:
        with transaction() as session:
            done = add_district(session, code, name, timezone)
    except ProvisionRefused as refused:
        raise fail(str(refused)) from None
    if as_json:
        print_json({"district_id": done.district_id, "created": done.created})
        return
    state = "provisioned" if done.created else "already provisioned"
    console.print(f"district {done.district_id} {state} ({timezone})", markup=False, highlight=False)


@district_app.command("list")
def district_list(as_json: JsonOption = False) -> None:
    """Every provisioned district: name, time zone, configured sources, staff accounts."""
    with transaction() as session:
        rows = district_rows(session)

    def cells(row: dict[str, Any]) -> list[str]:
        sources = ", ".join(row["sources"]) or "none configured"
        return [row["district_id"], row["name"], row["timezone"], sources, str(row["staff"]),
                local_time(row["created_at"])]  # fmt: skip

    columns = ("district", "name", "timezone", "sources", "staff", "provisioned")
    print_rows(rows, as_json=as_json, title="districts", columns=columns, cells=cells)
