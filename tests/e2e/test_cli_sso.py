"""`ale-sync sso`: a district's identity provider set, shown and removed from the command line;
wrong settings are refused with every problem named, and the secret is never printed."""

from __future__ import annotations

import json
import os
import subprocess

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models import District
from models.sign_in import provider_settings


def ale_sync(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, "COLUMNS": "200", "ALE_CLI_SSO_SECRET": "top-secret-value", **env}
    return subprocess.run(
        ["ale-sync", *args], capture_output=True, text=True, env=merged, check=False, timeout=60
    )


SET = (
    "sso", "set", "--district", "17001", "--issuer", "https://login.district.example", "--client-id", "ale",
    "--client-secret-env", "ALE_CLI_SSO_SECRET",
    "--role", "registrar=group:ALE Registrars", "--role", "teacher=domain:district.example",
)  # fmt: skip


def test_sso_set_show_and_remove_a_districts_provider(committed_engine: Engine) -> None:
    with Session(committed_engine) as session, session.begin():
        session.add(District(id="17001", name="District 17001"))
    assert ale_sync(*SET).returncode == 0
    with Session(committed_engine) as session:
        saved = provider_settings(session, "17001")
    assert saved is not None
    assert saved.role_rules == {"registrar": ["group:ALE Registrars"], "teacher": ["domain:district.example"]}
    shown = ale_sync("sso", "show", "--json")
    [row] = json.loads(shown.stdout)
    assert (row["client_secret_from"], row["problems"]) == ("env:ALE_CLI_SSO_SECRET", [])
    assert "top-secret-value" not in shown.stdout + shown.stderr
    assert ale_sync("sso", "remove", "--district", "17001").returncode == 0
    missing = ale_sync("sso", "remove", "--district", "17001")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "ale-sync: district 17001 has no identity provider",
    )


def test_sso_set_refuses_wrong_settings_naming_each_problem(committed_engine: Engine) -> None:
    wrong = ale_sync(
        "sso", "set", "--district", "17001", "--issuer", "http://login.district.example",
        "--client-id", "ale",
        "--client-secret-env", "ALE_CLI_SSO_UNSET", "--role", "principal=group:Office",
    )  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.splitlines() == [
        "ale-sync: issuer: must use https (plain http only on this machine's loopback address)",
        "ale-sync: roles: unknown role 'principal'",
        "ale-sync: client secret: environment variable ALE_CLI_SSO_UNSET is not set",
    ]
    both = ale_sync(*SET, "--client-secret-file", "/run/secret")
    assert (both.returncode, "exactly one of" in both.stderr) == (2, True)
    unknown = ale_sync(*SET)  # no such district yet
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "ale-sync: no district 17001")
