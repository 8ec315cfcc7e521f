"""The `ale-sync` entry point. `ale-sync config check` runs before anything else is imported, since
some modules read the settings when imported and would stop at the first wrong one; the check
reports every wrong setting instead."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:3] == ["config", "check"]:
        from worker.cli_config import config_app  # noqa: PLC0415 (see the module's docstring)

        config_app(args=sys.argv[2:], prog_name="ale-sync config")
        return
    from worker.cli import main as run  # noqa: PLC0415 (see the module's docstring)

    run()
