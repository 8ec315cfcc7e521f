"""The `ale-sync` command as ops run it: a real process against the test database."""

from __future__ import annotations

import os
import subprocess

import pytest


def ale_sync(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, "LOG_FORMAT": "json", **(env or {})}
    return subprocess.run(
        ["ale-sync", *args], capture_output=True, text=True, env=merged, check=False, timeout=300
    )


def test_db_upgrade_reports_the_revision(database_url: str) -> None:
    result = ale_sync("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database at revision 00" in result.stdout


def test_a_wrong_setting_exits_2_with_one_line(database_url: str) -> None:
    result = ale_sync("db", "upgrade", env={"DEACTIVATION_THRESHOLD": "-1"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ale-sync: invalid setting DEACTIVATION_THRESHOLD: Input should be greater than 0"
    ]


@pytest.mark.parametrize("command", [[], ["db"], ["db", "upgrade"], ["demo"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = ale_sync(*command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
