"""Source settings: the kind is explicit, each kind needs its settings, secrets are read where named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import SourceConfig
from config.sources import SecretMissing, SecretRef

API = {"base_url": "https://sis.example/ims/oneroster/rostering/v1p2", "token_url": "https://sis.example/token",
       "client_id": "ale", "client_secret": {"env": "SIS_SECRET"}}  # fmt: skip


def test_a_source_written_before_kinds_existed_is_an_inbox_source():
    source = SourceConfig.model_validate({"district": "17001", "name": "nightly", "inbox": "/srv/sis"})

    assert source.kind == "inbox"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "inbox"}, 'a source of kind "inbox" needs its "inbox" settings'),
        ({"kind": "oneroster-api"}, 'a source of kind "oneroster-api" needs its "api" settings'),
        ({"kind": "sftp"}, 'a source of kind "sftp" needs its "sftp" settings'),
        ({"kind": "oneroster-api", "api": API, "format": "csv"}, "reads OneRoster"),
        (
            {"kind": "oneroster-api", "api": {**API, "client_secret": {"env": "A", "file": "/b"}}},
            "exactly one",
        ),
        ({"kind": "oneroster-api", "api": {**API, "base_url": "sis.example"}}, "http(s)://"),
    ],
)
def test_a_source_missing_what_its_kind_needs_is_refused_with_a_reason(fields, message):
    with pytest.raises(ValidationError, match=message):
        SourceConfig.model_validate({"district": "17001", "name": "s", **fields})


def test_a_secret_is_read_from_the_environment_or_a_file_when_needed(monkeypatch, tmp_path):
    monkeypatch.setenv("SIS_SECRET", "s3cret")
    (tmp_path / "secret").write_text("from-file\n")

    assert SecretRef(env="SIS_SECRET").read() == "s3cret"
    assert SecretRef(file=tmp_path / "secret").read() == "from-file"
    with pytest.raises(SecretMissing, match="NOPE holding a source's secret is unset"):
        SecretRef(env="NOPE").read()


def test_a_source_s_settings_hold_no_secret_value(monkeypatch):
    monkeypatch.setenv("SIS_SECRET", "s3cret")
    source = SourceConfig.model_validate(
        {"district": "17001", "name": "s", "kind": "oneroster-api", "api": API}
    )

    assert "s3cret" not in source.model_dump_json()
