"""The authorization code flow with PKCE: the redirect to the provider, and its answer taken once.

A sign-in's state, nonce and PKCE verifier are random, kept in `sign_in_attempts` under the
state's hash and bound to the browser that started it (a cookie of its own). The callback deletes
the attempt before anything else, so a replayed state finds nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import delete
from sqlalchemy.orm import Session

from admin.sessions import digest
from admin.sso.discovery import TIMEOUT_SECONDS, provider_metadata
from admin.sso.id_token import verify_id_token
from admin.sso.refusals import SignInRefused
from config.identity_provider import ProviderSettings, client_secret
from models import SignInAttempt

BROWSER_COOKIE = "ale_sign_in"
ATTEMPT_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class StartedSignIn:
    provider_url: str  # where the browser goes next
    browser_secret: str  # the cookie that binds the answer to this browser


def _client(provider: ProviderSettings, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret(provider.client_secret_from),
        scope=provider.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def start_sign_in(session: Session, provider: ProviderSettings, redirect_uri: str) -> StartedSignIn:
    """Record a new attempt and build the provider's authorization URL for it."""
    metadata = provider_metadata(provider.issuer)
    state, nonce, verifier, browser = (generate_token(48) for _ in range(4))
    session.execute(
        delete(SignInAttempt).where(SignInAttempt.created_at < datetime.now(UTC) - ATTEMPT_LIFETIME)
    )
    session.add(
        SignInAttempt(
            state_hash=digest(state),
            district_id=provider.district,
            browser_hash=digest(browser),
            nonce=nonce,
            code_verifier=verifier,
        )
    )
    with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    return StartedSignIn(url, browser)


def take_attempt(session: Session, state: str) -> SignInAttempt | None:
    """The attempt this state names, deleted as it is read: a state is good for one answer."""
    return session.execute(
        delete(SignInAttempt).where(SignInAttempt.state_hash == digest(state)).returning(SignInAttempt)
    ).scalar_one_or_none()


def attempt_refusal(attempt: SignInAttempt | None, browser_secret: str | None) -> str | None:
    """Why this answer cannot be the one the attempt waits for (None: it can)."""
    if attempt is None:
        return "unknown_or_used_state"
    if not browser_secret or not secrets.compare_digest(attempt.browser_hash, digest(browser_secret)):
        return "other_browser"
    if datetime.now(UTC) - attempt.created_at > ATTEMPT_LIFETIME:
        return "attempt_expired"
    return None


def finish_sign_in(
    provider: ProviderSettings, attempt: SignInAttempt, code: str, redirect_uri: str
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the checked ID token's claims."""
    metadata = provider_metadata(provider.issuer)
    with _client(provider, redirect_uri) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
                timeout=TIMEOUT_SECONDS,
            )
        except (OAuthError, requests.RequestException, ValueError):
            raise SignInRefused("token_request_failed") from None
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise SignInRefused("no_id_token")
    return verify_id_token(raw, provider, metadata, attempt.nonce, token.get("access_token"))
