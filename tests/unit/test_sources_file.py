"""Sources from the file SIS_SOURCES_FILE names (TOML or JSON), and SIS_SOURCES in a .env that
honcho and the settings both read alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from honcho.environ import parse as honcho_env
from pydantic import ValidationError

from config.settings import Settings
from config.sources_file import SourcesFileError, district_entries

TOML = """
[[sources]]
district = "17001"
name = "skyward-nightly"
inbox = "/srv/sis/17001"

[[sources]]
district = "27010"
name = "oneroster"
kind = "sftp"
[sources.sftp]
host = "sftp.example.org"
username = "ale"
key_file = "/etc/ale-sync/id_ed25519"
host_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemo"]
"""


@pytest.fixture(autouse=True)
def _no_environment_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIS_SOURCES", "SIS_SOURCES_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_two_districts_sources_are_read_from_a_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sources.toml").write_text(TOML)
    monkeypatch.setenv("SIS_SOURCES_FILE", str(tmp_path / "sources.toml"))

    settings = Settings(_env_file=None)

    assert [(s.district, s.name, s.kind) for s in settings.sis_sources] == [
        ("17001", "skyward-nightly", "inbox"),
        ("27010", "oneroster", "sftp"),
    ]


def test_a_json_file_may_be_a_list_or_hold_one_under_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = '{"district": "17001", "name": "n", "inbox": "/srv/a"}'
    for text in (f"[{entry}]", f'{{"sources": [{entry}]}}'):
        (tmp_path / "sources.json").write_text(text)
        monkeypatch.setenv("SIS_SOURCES_FILE", str(tmp_path / "sources.json"))
        assert [s.inbox for s in Settings(_env_file=None).sis_sources] == [Path("/srv/a")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]\n", "not valid TOML"),  # a table header left open
        ('[[sources]]\ndistrict = "17001"\nname = "n"\nkind = "sftp"\n', "source 1 (district 17001, name n)"),
        ("sources = 3\n", "expected a list of sources"),
    ],
)
def test_a_wrong_file_is_named_with_the_entry_and_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    (tmp_path / "sources.toml").write_text(text)
    monkeypatch.setenv("SIS_SOURCES_FILE", str(tmp_path / "sources.toml"))

    with pytest.raises(
        ValidationError,
        match=r"SIS_SOURCES_FILE: .*sources\.toml.*" + message.replace("(", r"\(").replace(")", r"\)"),
    ):
        Settings(_env_file=None)


def test_a_source_named_in_the_file_and_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sources.toml").write_text(TOML)
    monkeypatch.setenv("SIS_SOURCES_FILE", str(tmp_path / "sources.toml"))
    monkeypatch.setenv("SIS_SOURCES", '[{"district": "17001", "name": "skyward-nightly", "inbox": "/x"}]')

    with pytest.raises(ValidationError, match="a source is named twice: 17001/skyward-nightly"):
        Settings(_env_file=None)


def test_sources_json_in_single_quotes_reads_the_same_in_honcho_and_in_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = """SIS_SOURCES='[{"district": "17001", "name": "nightly", "inbox": "/srv/sis/17001"}]'\n"""
    (tmp_path / ".env").write_text(line)

    from_honcho = honcho_env(line)["SIS_SOURCES"]
    settings = Settings(_env_file=tmp_path / ".env")

    assert from_honcho.startswith('[{"district": "17001"')
    assert [(s.district, s.name) for s in settings.sis_sources] == [("17001", "nightly")]
    monkeypatch.setenv("SIS_SOURCES", from_honcho)  # as honcho hands it to web, worker and beat
    assert Settings(_env_file=None).sis_sources == settings.sis_sources


def test_districts_listed_beside_the_sources_are_read_and_one_without_a_name_is_named(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        TOML + '\n[[districts]]\ncode = "17001"\nname = "Lakeview SD"\ntimezone = "America/Boise"\n'
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[[districts]]\ncode = "17001"\n')

    assert district_entries(good) == [{"code": "17001", "name": "Lakeview SD", "timezone": "America/Boise"}]
    with pytest.raises(SourcesFileError, match=r"bad\.toml: district 1: needs a code and a name"):
        district_entries(bad)
