"""Setting ale-sync up for real districts from the command line: districts provisioned before their
SIS delivers, sources from a file, the configuration checked, the embedded services seen, and
tables a script or a narrow terminal can read whole."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from models import District
from models.db import transaction
from tests.e2e.test_cli_ops import ale_sync, json_of

# each `ale-sync` process costs seconds on a busy machine; these tests start several
pytestmark = pytest.mark.timeout(300)

SOURCES = """
[[sources]]
district = "17001"
name = "skyward-nightly"
inbox = "{inbox}"

[[sources]]
district = "27010"
name = "nightly"
inbox = "{missing}"
"""


def test_a_district_provisioned_before_any_delivery_is_listed_with_its_zone_and_adding_it_again_is_harmless(
    committed_engine: Engine,
) -> None:
    added = ale_sync("district", "add", "17001", "--name", "Lakeview SD", "--timezone", "America/Boise")
    again = ale_sync("district", "add", "17001", "--name", "Lakeview SD", "--timezone", "America/Boise")

    assert added.returncode == 0, added.stderr
    assert "district 17001 provisioned (America/Boise)" in added.stdout
    assert again.returncode == 0 and "already provisioned" in again.stdout
    listed = json_of("district", "list")
    assert [(d["district_id"], d["name"], d["timezone"], d["staff"]) for d in listed] == [
        ("17001", "Lakeview SD", "America/Boise", 0)
    ]


def test_a_district_that_differs_from_the_stored_one_or_has_no_real_zone_is_refused(
    committed_engine: Engine,
) -> None:
    with transaction(committed_engine) as session:
        session.add(District(id="17001", name="Lakeview SD"))

    differs = ale_sync("district", "add", "17001", "--name", "Other name")
    bad_zone = ale_sync("district", "add", "27010", "--name", "Ridge", "--timezone", "Mars/Olympus")

    assert differs.returncode == 1
    assert differs.stderr.strip() == (
        "ale-sync: district 17001 is already provisioned as 'Lakeview SD' (America/Los_Angeles)"
    )
    assert bad_zone.returncode == 1 and "'Mars/Olympus' is not a time zone name" in bad_zone.stderr


def test_staff_are_added_to_a_district_whose_sis_has_delivered_nothing(committed_engine: Engine) -> None:
    assert ale_sync("district", "add", "17001", "--name", "Lakeview SD").returncode == 0

    staff = ale_sync("staff", "add", "--district", "17001", "--name", "R. Alvarez", "--role", "registrar")

    assert staff.returncode == 0, staff.stderr
    assert "staff 1 added to district 17001 as registrar" in staff.stdout


def test_config_check_prints_each_problem_on_a_line_and_exits_2(
    committed_engine: Engine, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(inbox=inbox, missing=tmp_path / "nowhere"))
    with transaction(committed_engine) as session:
        session.add(District(id="17001", name="Lakeview SD"))
    env = {
        "SIS_SOURCES_FILE": str(sources),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "SSID_PATTERN": "(?P<ssid>[0-9]{10})",  # Python reads it, Postgres (where the ingest runs) does not
    }

    result = ale_sync("config", "check", env=env)

    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"source 27010/nightly: inbox folder {tmp_path / 'nowhere'} does not exist",
        "SSID_PATTERN: Postgres cannot read this regular expression (keep to classes, groups, {n})",
        "source 27010/nightly: district 27010 is not provisioned (`ale-sync district add 27010 --name ...`)",
    ]


def test_config_check_names_every_wrong_setting_not_only_the_first(tmp_path: Path) -> None:
    env = {
        "DEACTIVATION_THRESHOLD": "-1",
        "PULL_INTERVAL_SECONDS": "1",
        "SIS_SOURCES_FILE": str(tmp_path / "x.toml"),
    }

    found = json_of_failing("config", "check", env=env)

    assert found["ok"] is False
    assert sorted(found["problems"]) == [
        "DEACTIVATION_THRESHOLD: Input should be greater than 0",
        "PULL_INTERVAL_SECONDS: Input should be greater than or equal to 10",
        f"SIS_SOURCES_FILE: {tmp_path / 'x.toml'}: cannot be read (FileNotFoundError)",
    ]


def json_of_failing(*args: str, env: dict[str, str]) -> Any:
    result = ale_sync(*args, "--json", env=env)
    assert result.returncode == 2, result.stderr
    return json.loads(result.stdout)


def test_two_districts_provisioned_from_the_sources_file_pass_the_check(
    committed_engine: Engine, tmp_path: Path
) -> None:
    for code in ("17001", "27010"):
        (tmp_path / code).mkdir()
    sources = tmp_path / "ale-sync.toml"
    sources.write_text(
        SOURCES.format(inbox=tmp_path / "17001", missing=tmp_path / "27010")
        + '[[districts]]\ncode = "17001"\nname = "Lakeview SD"\n\n'
        + '[[districts]]\ncode = "27010"\nname = "Ridge SD"\ntimezone = "America/Boise"\n'
    )
    env = {"SIS_SOURCES_FILE": str(sources)}

    added = ale_sync("district", "add", "--from", str(sources), env=env)
    checked = ale_sync("config", "check", env=env)

    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == [
        "district 17001 provisioned (America/Los_Angeles)",
        "district 27010 provisioned (America/Boise)",
    ]
    assert (checked.returncode, checked.stdout.strip()) == (0, "configuration OK"), checked.stdout
    listed = json_of("district", "list", env=env)
    assert [(d["district_id"], d["sources"]) for d in listed] == [
        ("17001", ["skyward-nightly"]),
        ("27010", ["nightly"]),
    ]


def test_services_status_says_which_embedded_server_runs_and_where(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}

    shown = json_of("services", "status", env=env)
    stopped = ale_sync("services", "stop", env=env)

    assert [(s["service"], s["state"], s["pid"]) for s in shown] == [
        ("postgres", "not used (configured URL)" if os.environ.get("DATABASE_URL") else "stopped", None),
        ("redis", "not used (configured URL)" if os.environ.get("REDIS_URL") else "stopped", None),
    ]
    assert stopped.returncode == 0 and "no embedded server was running" in stopped.stdout


def test_a_narrow_pipe_gets_whole_ids_and_statuses_and_local_times_with_the_zone(
    committed_engine: Engine, redis_client: redis.Redis
) -> None:
    long_name = "Lakeview-Ridgecrest Consolidated Unified School District Number Seventeen"
    assert ale_sync("district", "add", "DISTRICT-CODE-0001", "--name", long_name).returncode == 0

    narrow = ale_sync("district", "list", env={"COLUMNS": "40", "TZ": "America/Los_Angeles"})

    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert "…" not in narrow.stdout
    assert "district: DISTRICT-CODE-0001" in lines  # too narrow for the table: one line per field
    assert f"name: {long_name}" in lines
    (provisioned,) = [line for line in lines if line.startswith("provisioned: ")]
    assert provisioned.endswith((" PST", " PDT"))  # local time, with the zone
    wide = ale_sync("district", "list")
    assert "│ DISTRICT-CODE-0001 │" in wide.stdout  # wide enough: the table
