"""`ale-sync services status|stop`: the embedded Postgres and Redis this machine runs for ale-sync.

They start the first time any process (a command, web, worker, beat) needs a database or a
broker and DATABASE_URL / REDIS_URL is unset, and keep running for the others until stopped.
"""

from __future__ import annotations

from typing import Any

import typer

from config.embedded import EmbeddedServer, data_home, embedded_servers, stop_embedded
from config.settings import get_settings
from worker.cli_ops import JsonOption
from worker.cli_output import console, print_json, print_rows

services_app = typer.Typer(help="The embedded Postgres and Redis: see and stop them.", no_args_is_help=True)


def _row(server: EmbeddedServer, configured: bool) -> dict[str, Any]:
    state = "not used (configured URL)" if configured else "running" if server.pid else "stopped"
    return {"service": server.name, "state": state, "pid": server.pid, "folder": str(server.folder)}


@services_app.command("status")
def services_status(as_json: JsonOption = False) -> None:
    """Each embedded server: running (with its pid) or stopped, and where it keeps its data."""
    settings = get_settings()
    configured = {"postgres": bool(settings.database_url), "redis": bool(settings.redis_url)}
    rows = [_row(s, configured[s.name]) for s in embedded_servers(data_home(settings.data_dir))]

    def cells(row: dict[str, Any]) -> list[str]:
        return [row["service"], row["state"], str(row["pid"] or "-"), row["folder"]]

    columns = ("service", "state", "pid", "data folder")
    print_rows(
        rows, as_json=as_json, title="embedded services", columns=columns, cells=cells, wrap=["data folder"]
    )


@services_app.command("stop")
def services_stop(as_json: JsonOption = False) -> None:
    """Stop the embedded servers (stop web, worker and beat first); data is kept, and the next
    process that needs them starts them again."""
    stopped = stop_embedded(data_home(get_settings().data_dir))
    if as_json:
        print_json({"stopped": [s.name for s in stopped]})
        return
    for server in stopped:
        console.print(f"{server.name} stopped (pid {server.pid})", markup=False, highlight=False)
    if not stopped:
        console.print("no embedded server was running")
