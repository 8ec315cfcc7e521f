"""`ale-sync district add|list`: districts provisioned before their SIS delivers anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from config.settings import get_settings
from config.sources_file import SourcesFileError, district_entries
from models.db import transaction
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
    code: Annotated[str | None, typer.Argument(help="The state's district code, e.g. 17001.")] = None,
    name: Annotated[str, typer.Option("--name", help="The district's name as staff know it.")] = "",
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA time zone for the district's local dates and times [default: DISTRICT_TIMEZONE].",
        ),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Add every [[districts]] entry (code, name, timezone) of a TOML/JSON file."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Provision a district, or each one a file lists, in one transaction (exit 0 also when one is
    already there as given, 1 when one differs: then none is added)."""
    try:
        wanted = _wanted(code, name, timezone, from_file)
        with transaction() as session:
            done = [add_district(session, *district) for district in wanted]
    except (ProvisionRefused, SourcesFileError) as refused:
        raise fail(str(refused)) from None
    if as_json:
        print_json([{"district_id": d.district_id, "created": d.created} for d in done])
        return
    for district, (_, _, zone) in zip(done, wanted, strict=True):
        state = "provisioned" if district.created else "already provisioned"
        console.print(f"district {district.district_id} {state} ({zone})", markup=False, highlight=False)


def _wanted(
    code: str | None, name: str, timezone: str | None, from_file: Path | None
) -> list[tuple[str, str, str]]:
    if from_file is not None and code is None:
        entries = district_entries(from_file)
        return [
            (e["code"], e["name"], e.get("timezone") or get_settings().district_timezone) for e in entries
        ]
    if from_file is not None or code is None or not name:
        raise fail("give CODE and --name, or --from FILE", 2)
    return [(code, name, timezone or get_settings().district_timezone)]


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
