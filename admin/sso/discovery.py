"""The provider's published metadata and signing keys (JWKS), fetched and cached per process.

The metadata must name the configured issuer exactly, so one provider cannot pose as another.
Keys are fetched again when a token names a key id the cached set lacks (the provider rotated).
"""

from __future__ import annotations

import time
from typing import Any

import requests
from joserfc.jwk import KeySet

from admin.sso.refusals import SignInRefused

CACHE_SECONDS = 3600
TIMEOUT_SECONDS = 5
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")

_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def _get_json(url: str) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError):
        raise SignInRefused("provider_unreachable") from None
    if not isinstance(document, dict):
        raise SignInRefused("provider_metadata_invalid")
    return document


def provider_metadata(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID configuration, checked to name this issuer and the endpoints we use."""
    cached = _metadata.get(issuer)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    document = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if document.get("issuer") != issuer or not all(isinstance(document.get(k), str) for k in REQUIRED):
        raise SignInRefused("provider_metadata_invalid")
    _metadata[issuer] = (time.monotonic(), document)
    return document


def signing_keys(metadata: dict[str, Any], *, refresh: bool = False) -> KeySet:
    """The provider's public keys from its jwks_uri."""
    uri = str(metadata["jwks_uri"])
    cached = _keys.get(uri)
    if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        keys = KeySet.import_key_set(_get_json(uri))  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError):
        raise SignInRefused("provider_keys_invalid") from None
    _keys[uri] = (time.monotonic(), keys)
    return keys


def forget_providers() -> None:
    """Drop cached metadata and keys (tests start providers anew)."""
    _metadata.clear()
    _keys.clear()
