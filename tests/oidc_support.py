"""A real OpenID Connect provider for the sign-in tests: `oidc-provider-mock` in a process of its
own on a free port, with users and their claims set over its HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from config.identity_provider import ProviderSettings
from models.sign_in import save_provider
from tests.admin_support import free_port

SECRET_VARIABLE = "ALE_TEST_OIDC_SECRET"
SECRET = "district-client-secret"
CLIENT_ID = "ale-sync-17001"
ROLE_RULES = {
    "registrar": ["group:ALE Registrars"],
    "secretary": ["group:Front Office"],
    "teacher": ["domain:teachers.district.example"],
}


@contextmanager
def running_provider(token_max_age_seconds: int = 3600) -> Iterator[str]:
    """`python -m oidc_provider_mock` on 127.0.0.1; yields its issuer URL."""
    port = free_port()
    provider = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            f"--token-max-age={token_max_age_seconds}",
        ],
        env={**os.environ, "PYTHONWARNINGS": "ignore", "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_for(issuer, provider)
        yield issuer
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def _wait_for(issuer: str, provider: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if provider.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited with status {provider.returncode}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the OpenID provider did not answer within 30 s")


def add_person(issuer: str, subject: str, **claims: Any) -> None:
    """A person the provider will sign in, with the claims it puts in their ID token."""
    httpx.put(f"{issuer}/users/{subject}", json=claims, timeout=5).raise_for_status()


def district_provider(issuer: str, district: str = "17001", **changes: Any) -> ProviderSettings:
    values: dict[str, Any] = {
        "district": district,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret_from": f"env:{SECRET_VARIABLE}",
        "role_rules": ROLE_RULES,
        **changes,
    }
    return ProviderSettings(**values)


def configure_district(engine: Engine, provider: ProviderSettings) -> None:
    with Session(engine) as session, session.begin():
        save_provider(session, provider)
