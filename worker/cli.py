"""`ale-sync`: the ops command line. Human tables by default, --json for scripts.

Exit codes: 0 success, 1 the operation failed (one line on stderr says why), 2 bad usage
or a wrong setting.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from config.logging import configure_logging
from config.redaction import SafeMessage
from config.settings import get_settings
from models.db import get_engine
from models.migrate import current_heads, downgrade, upgrade
from worker import cli_batches, cli_sources
from worker.cli_config import config_app
from worker.cli_district import district_app
from worker.cli_notify import notifications_app
from worker.cli_ops import register as register_ops
from worker.cli_output import console, err_console, fail
from worker.cli_pauses import pause_app
from worker.cli_services import services_app
from worker.cli_sso import sso_app
from worker.cli_staff import staff_app
from worker.demo import DemoRefused, run_demo

__all__ = ["app", "console", "err_console", "fail", "main"]

app = typer.Typer(
    name="ale-sync",
    help="Keep ALE created student records in step with the district SIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

register_ops(app)
app.add_typer(district_app, name="district")
app.add_typer(config_app, name="config")
app.add_typer(services_app, name="services")
app.add_typer(staff_app, name="staff")
app.add_typer(sso_app, name="sso")
app.command("ingest")(cli_batches.ingest)
app.add_typer(cli_batches.batches_app, name="batches")
cli_batches.batches_app.command("replay")(cli_sources.replay)
app.command("sources")(cli_sources.sources)
app.add_typer(notifications_app, name="notifications")
app.add_typer(pause_app, name="pause")


@app.callback()
def _start(context: typer.Context) -> None:
    """Settings are checked and logging configured before any command runs (except `config`,
    which reports every wrong setting itself).

    The tables are the CLI's output; its log lines go to stderr at WARNING and above unless
    LOG_LEVEL is set, so a script sees results on stdout and only real trouble on stderr.
    """
    if context.invoked_subcommand == "config":
        return  # it checks the settings itself and reports every wrong one
    settings = get_settings()
    level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
    configure_logging(settings.log_format, level)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the database migrations (to the newest by default)."""
    engine = get_engine()
    upgrade(engine, revision)
    console.print(f"database at revision {', '.join(sorted(current_heads(engine))) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert the database migrations to REVISION."""
    engine = get_engine()
    downgrade(engine, revision)
    console.print(f"database at revision {', '.join(sorted(current_heads(engine))) or 'base'}")


@app.command("demo")
def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo's database, Redis database and files to look at.")
    ] = False,
) -> None:
    """Run the whole flow end to end on an invented district, in a database, Redis database and
    folder of its own (removed afterwards unless --keep), and print what happened."""
    try:
        run_demo(console, keep=keep)
    except DemoRefused as refused:
        raise fail(str(refused)) from None


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # the one place that turns an unexpected error into one line
        reason = str(exc) if isinstance(exc, SafeMessage) else type(exc).__name__
        err_console.print(f"ale-sync: failed: {reason}", markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
