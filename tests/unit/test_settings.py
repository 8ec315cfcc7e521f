"""Settings: typed defaults, and a wrong setting stops the process with one line naming it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis

from config.services import redis_py_url, redis_url
from config.settings import Settings


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSID_PATTERN", "DEACTIVATION_THRESHOLD", "SIS_SOURCES", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.ssid_regex().fullmatch("0012345678")
    assert not settings.ssid_regex().fullmatch("12345678")
    assert settings.deactivation_threshold == 0.10
    assert settings.sis_sources == []
    assert settings.log_format == "auto"


def test_sources_are_read_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SIS_SOURCES",
        '[{"district": "17001", "name": "skyward", "inbox": "/srv/inbox/17001",'
        ' "ssid_from": {"kind": "column", "column": "metadata.state_id"}}]',
    )
    settings = Settings(_env_file=None)
    (source,) = settings.sources_for("17001")
    assert source.ssid_from.kind == "column"
    assert source.ssid_from.column == "metadata.state_id"
    assert source.other_id_from.column == "identifier"
    assert settings.sources_for("27010") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSID_PATTERN", "[0-9"),
        ("DEACTIVATION_THRESHOLD", "1.5"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("SIS_SOURCES", '[{"district": "17001"'),
        ("LOG_FORMAT", "xml"),
        ("PULL_INTERVAL_SECONDS", "often"),
    ],
)
def test_a_wrong_setting_stops_the_process_with_one_line_naming_it(name: str, value: str) -> None:
    code = "from config.settings import get_settings; get_settings()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "", name: value},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ale-sync: invalid setting {name}")


@pytest.mark.parametrize(
    ("celery_url", "redis_py"),
    [
        ("redis+socket:///var/ale/redis.sock", "unix:///var/ale/redis.sock?db=0"),
        ("redis+socket:///var/ale/redis.sock?virtual_host=3", "unix:///var/ale/redis.sock?db=3"),
        ("redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2"),
    ],
)
def test_the_broker_url_is_spelt_for_redis_py_with_its_database_number(
    celery_url: str, redis_py: str
) -> None:
    assert redis_py_url(celery_url) == redis_py


def test_the_tests_point_redis_at_a_database_no_real_worker_or_demo_reads() -> None:
    client = redis.Redis.from_url(redis_py_url(redis_url()))
    try:
        assert 1 <= int(client.connection_pool.connection_kwargs.get("db", 0)) <= 14
    finally:
        client.close()
