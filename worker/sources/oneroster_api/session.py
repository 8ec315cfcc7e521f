"""HTTP to a OneRoster server: OAuth 2.0 client credentials, and retries that real servers need.

- The bearer token is fetched when first needed, renewed shortly before it expires, and again at
  once when the server answers 401 (a token revoked or expired mid-read); the read goes on.
- 429 and 503 wait for Retry-After (seconds or an HTTP date) when the server sends it; other
  5xx answers, timeouts and connection resets wait with exponential backoff and full jitter.
  Attempts per request are bounded (`max_attempts`), and so is any one wait.
- Redirects are not followed and a `Link` to another host is refused: the token goes to the
  configured server only.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from config.sources import OneRosterApiConfig
from worker.sources.errors import SourceUnavailable

logger = structlog.get_logger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RENEW_BEFORE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 60.0


class ApiSession:
    """One read's connection to a OneRoster server (keep-alive), with its token."""

    def __init__(self, config: OneRosterApiConfig) -> None:
        self.config = config
        self.requests = 0
        self.retries = 0
        self.tokens_fetched = 0
        self._token: str | None = None
        self._expires_at = 0.0
        self._origin = _origin(config.base_url)
        self._client = httpx.Client(
            timeout=httpx.Timeout(config.timeout_seconds),
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET URL (on the configured server only) with the bearer token, retried as the module says."""
        if _origin(url) != self._origin:
            raise SourceUnavailable("foreign_link", f"the server pointed the read at another host ({url})")
        renewed = False
        for attempt in range(1, self.config.max_attempts + 1):
            response = self._send(lambda: self._client.get(url, params=params, headers=self._bearer()), url)
            if response is not None and response.status_code == 401 and not renewed:
                logger.info("oneroster_api.token_renewed_after_401", url=_path(url))
                self._token, renewed = None, True
                response = self._send(
                    lambda: self._client.get(url, params=params, headers=self._bearer()), url
                )
            if response is not None and response.status_code not in RETRY_STATUSES:
                return _ok(response, url)
            self._wait(attempt, response, url)
        raise AssertionError("unreachable")

    def _send(self, request: Callable[[], httpx.Response], url: str) -> httpx.Response | None:
        self.requests += 1
        try:
            return request()
        except (httpx.TimeoutException, httpx.TransportError) as error:
            logger.info("oneroster_api.transport_error", url=_path(url), error=type(error).__name__)
            return None

    def _wait(self, attempt: int, response: httpx.Response | None, url: str) -> None:
        """Sleep before the next attempt, or give up when the attempts are spent or the wait is too long."""
        what = f"HTTP {response.status_code}" if response is not None else "a timeout or a reset connection"
        if attempt >= self.config.max_attempts:
            raise SourceUnavailable(
                "server_unavailable", f"{_path(url)} failed {attempt} times in a row (last: {what})"
            )
        asked = retry_after(response) if response is not None else None
        wait = asked if asked is not None else self._backoff(attempt)
        if wait > self.config.max_retry_after_seconds:
            raise SourceUnavailable(
                "server_busy",
                f"{_path(url)}: the server asks to wait {wait:.0f} s; the next pull tries again",
            )
        self.retries += 1
        logger.info("oneroster_api.retrying", url=_path(url), status=what, wait_seconds=round(wait, 2))
        time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2^(attempt-1), capped."""
        return random.uniform(
            0, min(BACKOFF_CAP_SECONDS, self.config.retry_backoff_seconds * 2 ** (attempt - 1))
        )

    def _bearer(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires_at - RENEW_BEFORE_SECONDS:
            self._token = self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> str:
        config = self.config
        form = {"grant_type": "client_credentials"}
        if config.scopes:
            form["scope"] = " ".join(config.scopes)
        secret = config.client_secret.read()
        headers = {}
        if config.token_auth == "body":  # noqa: S105 (a method's name)
            form |= {"client_id": config.client_id, "client_secret": secret}
        else:
            pair = base64.b64encode(f"{config.client_id}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        url = config.token_url
        for attempt in range(1, config.max_attempts + 1):
            response = self._send(lambda: self._client.post(url, data=form, headers=headers), url)
            if response is not None and response.status_code not in RETRY_STATUSES:
                return self._accept_token(response)
            self._wait(attempt, response, config.token_url)
        raise AssertionError("unreachable")

    def _accept_token(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise SourceUnavailable(
                "token_refused",
                f"the token endpoint refused the client credentials (HTTP {response.status_code})",
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise SourceUnavailable(
                "token_unreadable", "the token endpoint's answer has no access_token"
            ) from None
        self.tokens_fetched += 1
        self._expires_at = time.monotonic() + lifetime
        return token


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _ok(response: httpx.Response, url: str) -> httpx.Response:
    if response.status_code == 200:
        return response
    if response.status_code in (401, 403):
        raise SourceUnavailable(
            "access_refused",
            f"{_path(url)} refused access (HTTP {response.status_code}): check the client's scopes",
        )
    raise SourceUnavailable("server_refused", f"{_path(url)} answered HTTP {response.status_code}")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _path(url: str) -> str:
    """A URL for messages: scheme, host and path (query strings may carry filters; ids never)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
