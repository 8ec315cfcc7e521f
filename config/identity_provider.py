"""A district's OpenID Connect provider settings, and the one check of them (`provider_problems`)
that `ale-sync sso set` and any configuration check run.

The client secret is never part of the settings: `client_secret_from` names where it is read,
`env:NAME` (an environment variable) or `file:/path` (a file, e.g. a mounted secret).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from config.redaction import SafeMessage

# the staff roles, most able first: a person several rules match gets the first one
ROLES = ("registrar", "secretary", "teacher")
MATCHER_KINDS = ("group", "email", "domain")
DEFAULT_SCOPES = "openid email profile"


class ProviderSettings(BaseModel):
    """One district's provider: what `ale-sync sso set` stores and sign-in reads."""

    model_config = ConfigDict(frozen=True)

    district: str
    issuer: str
    client_id: str
    client_secret_from: str
    scopes: str = DEFAULT_SCOPES
    name_claim: str = "name"
    groups_claim: str = "groups"
    # role -> matchers: "group:NAME" (in the groups claim), "email:ADDRESS", "domain:DOMAIN"
    role_rules: dict[str, list[str]] = Field(default_factory=dict)


class SecretUnavailable(SafeMessage, Exception):
    """The client secret cannot be read; the message names where it was looked for, never a value."""


def provider_problems(provider: ProviderSettings) -> list[str]:
    """Every problem with one district's provider settings, one sentence each; empty when usable."""
    problems = [
        *_issuer_problems(provider.issuer),
        *_role_rule_problems(provider.role_rules),
    ]
    if not provider.client_id.strip():
        problems.append("client id: empty")
    try:
        client_secret(provider.client_secret_from)
    except SecretUnavailable as missing:
        problems.append(f"client secret: {missing}")
    if "openid" not in provider.scopes.split():
        problems.append("scopes: must include openid")
    for field in ("name_claim", "groups_claim"):
        if not getattr(provider, field).strip():
            problems.append(f"{field.replace('_', ' ')}: empty")
    return problems


def _issuer_problems(issuer: str) -> list[str]:
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return ["issuer: must be a URL like https://login.example.org/district (no query)"]
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname)):
        return []
    return ["issuer: must use https (plain http only on this machine's loopback address)"]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _role_rule_problems(rules: dict[str, list[str]]) -> list[str]:
    problems = [f"roles: unknown role {role!r}" for role in rules if role not in ROLES]
    for role, matchers in rules.items():
        for matcher in matchers:
            kind, _, value = matcher.partition(":")
            if kind not in MATCHER_KINDS or not value.strip():
                problems.append(f"roles: {role} rule {matcher!r} is not group:, email: or domain: a value")
    if not any(rules.values()):
        problems.append("roles: no rule maps anyone to a role, so nobody could sign in")
    return problems


def client_secret(reference: str) -> str:
    """The secret that `env:NAME` or `file:/path` points at."""
    kind, _, where = reference.partition(":")
    if kind == "env":
        value = os.environ.get(where, "")
        if not value.strip():
            raise SecretUnavailable(f"environment variable {where} is not set")
        return value.strip()
    if kind == "file":
        try:
            value = Path(where).read_text(encoding="utf-8")
        except OSError as error:
            raise SecretUnavailable(f"file {where} cannot be read ({type(error).__name__})") from None
        if not value.strip():
            raise SecretUnavailable(f"file {where} is empty")
        return value.strip()
    raise SecretUnavailable("must be env:VARIABLE or file:/path")
