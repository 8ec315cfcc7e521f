"""Which role a signed-in person gets from the district's rules: provider groups, or a verified
e-mail address or domain. Rules are tried registrar, secretary, teacher; nobody matched, no access."""

from __future__ import annotations

from typing import Any

from config.identity_provider import ROLES, ProviderSettings

NAME_LIMIT = 200


def _groups(claims: dict[str, Any], claim: str) -> set[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def verified_email(claims: dict[str, Any]) -> str | None:
    """The e-mail claim, unless the provider says it is not verified."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        return None
    return email.strip().lower()


def _matches(matcher: str, groups: set[str], email: str | None) -> bool:
    kind, _, value = matcher.partition(":")
    if kind == "group":
        return value in groups
    if kind == "email":
        return email is not None and email == value.strip().lower()
    if kind == "domain":
        return email is not None and email.rpartition("@")[2] == value.strip().lower().lstrip("@")
    return False


def role_for(provider: ProviderSettings, claims: dict[str, Any]) -> str | None:
    """The first role (most able first) one of whose rules matches the person; None: no access."""
    groups, email = _groups(claims, provider.groups_claim), verified_email(claims)
    for role in ROLES:
        if any(_matches(matcher, groups, email) for matcher in provider.role_rules.get(role, [])):
            return role
    return None


def display_name(provider: ProviderSettings, claims: dict[str, Any]) -> str:
    """The staff member's name from the configured claim (their e-mail, then their subject, if absent)."""
    for value in (claims.get(provider.name_claim), claims.get("email"), claims.get("sub")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:NAME_LIMIT]
    return "staff member"
