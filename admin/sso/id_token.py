"""The ID token checked: signed by one of the provider's published keys with an asymmetric
algorithm, issued by the configured issuer to this client, unexpired, and carrying this sign-in's
nonce (Authlib's CodeIDToken rules, also the access token's hash when present)."""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jws import JWSRegistry

from admin.sso.discovery import signing_keys
from admin.sso.refusals import SignInRefused
from config.identity_provider import ProviderSettings

# never "none", never a symmetric algorithm keyed by the client secret
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60  # clock difference tolerated between the provider and this server
CLAIM_REASONS = {"aud": "id_token_audience", "azp": "id_token_audience", "nonce": "id_token_nonce"}


def verify_id_token(
    raw: str, provider: ProviderSettings, metadata: dict[str, Any], nonce: str, access_token: str | None
) -> dict[str, Any]:
    """The token's claims once every check passed; `SignInRefused` naming the failed check."""
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[alg for alg in offered if alg in ASYMMETRIC] or ["RS256"])
    try:
        try:
            token = jwt.decode(raw, signing_keys(metadata), registry=registry)
        except InvalidKeyIdError:
            token = jwt.decode(raw, signing_keys(metadata, refresh=True), registry=registry)
        params: dict[str, Any] = {"nonce": nonce, "client_id": provider.client_id}
        if access_token:
            params["access_token"] = access_token
        options = {"iss": {"essential": True, "values": [provider.issuer]}}
        claims = CodeIDToken(token.claims, token.header, options, params)
        claims.validate(leeway=LEEWAY_SECONDS)
    except ExpiredTokenError:
        raise SignInRefused("id_token_expired") from None
    except ClaimError as error:
        raise SignInRefused(CLAIM_REASONS.get(error.claim, "id_token_claims")) from None
    except (JoseError, ValueError):
        raise SignInRefused("id_token_invalid") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInRefused("id_token_claims")
    return dict(claims)
