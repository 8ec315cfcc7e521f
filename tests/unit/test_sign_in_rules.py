"""The pure rules of staff sign-in: a provider's settings checked, claims mapped to a role, and the
address a request is counted under behind a proxy."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from admin.rate_limits import address_behind_proxies
from admin.sso.role_mapping import display_name, role_for
from config.identity_provider import ProviderSettings, client_secret, provider_problems

RULES = {
    "registrar": ["group:ALE Registrars", "email:rita@district.example"],
    "secretary": ["group:Front Office"],
    "teacher": ["domain:teachers.district.example"],
}


def provider(**changes: Any) -> ProviderSettings:
    values: dict[str, Any] = {
        "district": "17001",
        "issuer": "https://login.district.example",
        "client_id": "ale-sync",
        "client_secret_from": "env:ALE_UNIT_SECRET",
        "role_rules": RULES,
        **changes,
    }
    return ProviderSettings(**values)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALE_UNIT_SECRET", "s3cret-value")


def test_a_complete_provider_has_no_problems() -> None:
    assert provider_problems(provider()) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        # plain http to another machine would send the code and the secret in clear
        ({"issuer": "http://login.district.example"}, "issuer: must use https"),
        # plain http is fine on this machine's loopback (a provider beside the service)
        ({"issuer": "http://127.0.0.1:9400"}, None),
        ({"issuer": "https://login.district.example/?tenant=1"}, "issuer: must be a URL"),
        ({"client_id": " "}, "client id: empty"),
        ({"client_secret_from": "env:ALE_UNIT_MISSING"}, "environment variable ALE_UNIT_MISSING is not set"),
        ({"client_secret_from": "s3cret-value"}, "must be env:VARIABLE or file:/path"),
        ({"scopes": "email profile"}, "scopes: must include openid"),
        ({"role_rules": {"principal": ["group:x"]}}, "unknown role 'principal'"),
        ({"role_rules": {"teacher": ["team:x"]}}, "is not group:, email: or domain:"),
        ({"role_rules": {}}, "nobody could sign in"),
        ({"name_claim": ""}, "name claim: empty"),
    ],
)
def test_each_provider_problem_is_named(changes: dict[str, Any], problem: str | None) -> None:
    problems = provider_problems(provider(**changes))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
    assert not any("s3cret-value" in p for p in problems)  # a problem never quotes the secret


def test_the_client_secret_is_read_from_a_file_and_never_quoted(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("from-a-file\n")
    assert client_secret(f"file:{path}") == "from-a-file"
    path.write_text("  \n")
    assert provider_problems(provider(client_secret_from=f"file:{path}")) == [
        f"client secret: file {path} is empty"
    ]


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        # a provider group named in the registrar rules
        ({"groups": ["Staff", "ALE Registrars"]}, "registrar"),
        # a group claim sent as one string
        ({"groups": "Front Office"}, "secretary"),
        # a verified address named exactly, whatever its case
        ({"email": "Rita@District.example", "email_verified": True}, "registrar"),
        # an address the provider says is not verified counts for nothing
        ({"email": "rita@district.example", "email_verified": False}, None),
        # a domain rule
        ({"email": "tess@teachers.district.example"}, "teacher"),
        # matched by several rules: the most able role
        ({"groups": ["Front Office"], "email": "rita@district.example"}, "registrar"),
        # a look-alike domain is not the domain
        ({"email": "tess@evilteachers.district.example"}, None),
        # nobody mapped: no access
        ({"groups": ["Bus Drivers"], "email": "bob@district.example"}, None),
        ({}, None),
    ],
)
def test_claims_map_to_a_role_or_to_no_access(claims: dict[str, Any], role: str | None) -> None:
    assert role_for(provider(), {"sub": "abc", **claims}) == role


def test_the_name_comes_from_the_configured_claim_then_the_email() -> None:
    assert display_name(provider(name_claim="preferred_username"), {"preferred_username": "rr"}) == "rr"
    assert (
        display_name(provider(), {"sub": "abc", "email": "rita@district.example"}) == "rita@district.example"
    )


PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "counted"),
    [
        # no trusted proxy: the socket's address, whatever the header says
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),
        # a client that is not the proxy cannot choose its address by sending the header
        ("203.0.113.9", "198.51.100.1", PROXY, "203.0.113.9"),
        # through the trusted proxy: the address the proxy saw
        ("10.0.0.2", "198.51.100.1", PROXY, "198.51.100.1"),
        # a forged left-most entry is ignored: the right-most untrusted hop counts
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.7", PROXY, "198.51.100.1"),
        # the proxy sent no header: the proxy's own address
        ("10.0.0.2", "", PROXY, "10.0.0.2"),
    ],
)
def test_the_counted_address_is_believed_only_from_trusted_proxies(
    peer: str, forwarded: str, proxies: tuple[Any, ...], counted: str
) -> None:
    assert address_behind_proxies(peer, forwarded, proxies) == counted
