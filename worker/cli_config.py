"""`ale-sync config check`: what is wrong with this installation's configuration, one line each."""

from __future__ import annotations

from typing import Annotated

import typer

from config.logging import configure_logging
from worker.cli_output import console, print_json
from worker.config_check import all_problems

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of lines.")]

config_app = typer.Typer(
    help="The configuration: check it before starting the processes.", no_args_is_help=True
)


@config_app.callback()
def _group() -> None:
    """The configuration: check it before starting the processes."""


@config_app.command("check")
def config_check(as_json: JsonOption = False) -> None:
    """Check settings, SIS sources (folders, key files, secrets), database, Redis, provisioned
    districts and sign-in providers; print each problem on a line (exit 0 none, 2 some)."""
    configure_logging("auto", "WARNING")
    problems = all_problems()
    if as_json:
        print_json({"ok": not problems, "problems": problems})
    elif problems:
        for line in problems:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("configuration OK")
    if problems:
        raise typer.Exit(2)
