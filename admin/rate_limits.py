"""Rate limits on sign-in and on requests, per client address and per staff member, counted in
Redis so every web process shares them (the `limits` library's sliding window counter).

If Redis cannot be reached the request is let through and `rate_limit_unavailable` is logged:
staff keep working through a broker outage, as the rest of the service does.
"""

from __future__ import annotations

import ipaddress
import math
import time
from functools import lru_cache

import redis
import structlog
from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from config.services import redis_client_url
from config.settings import get_settings

logger = structlog.get_logger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimited(Exception):
    """Too many requests; `retry_after` is the whole seconds until the window lets one through."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@lru_cache(maxsize=4)
def _limiter(url: str) -> SlidingWindowCounterRateLimiter:
    pool = redis.ConnectionPool.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    storage = RedisStorage(
        "redis://", connection_pool=pool, key_prefix="ale-sync-limits", wrap_exceptions=True
    )
    return SlidingWindowCounterRateLimiter(storage)


@lru_cache(maxsize=16)
def _items(text: str) -> list[RateLimitItem]:
    return parse_many(text)


def forget_limiter() -> None:
    """Drop the cached Redis connection (tests that point the process at another Redis)."""
    _limiter.cache_clear()


def check(scope: str, limit: str, key: str) -> None:
    """Count one hit of `key` under `scope`; `RateLimited` once any of the limits is spent."""
    limiter = _limiter(redis_client_url())
    try:
        for item in _items(limit):
            if not limiter.hit(item, scope, key):
                reset = limiter.get_window_stats(item, scope, key).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())))
    except StorageError:
        logger.warning("rate_limit_unavailable", scope=scope)


@lru_cache(maxsize=4)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request) -> str:
    """The address a request is counted under (see `address_behind_proxies`)."""
    return address_behind_proxies(
        request.client.host if request.client else "unknown",
        request.headers.get("x-forwarded-for", ""),
        _networks(tuple(get_settings().trusted_proxies)),
    )


def address_behind_proxies(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The socket's address; when that is a trusted proxy, the right-most X-Forwarded-For entry that
    is not itself a trusted proxy (entries left of it are whatever the client chose to send)."""
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    return next((hop for hop in reversed(hops) if not _trusted(hop, proxies)), peer)


def limit_sign_in(request: Request) -> None:
    """Every sign-in attempt (token form, district sign-in, its return) counts for its address."""
    check("sign_in_address", get_settings().rate_limit_sign_in_per_address, client_address(request))


def limit_staff_sign_in(staff_id: int) -> None:
    check("sign_in_staff", get_settings().rate_limit_sign_in_per_staff, str(staff_id))


def limit_requests_by_address(request: Request) -> None:
    """Every JSON API request counts for its address, before its token is looked at."""
    check("requests_address", get_settings().rate_limit_requests_per_address, client_address(request))


def limit_staff_requests(staff_id: int) -> None:
    """Every signed-in request (API or page) counts for its staff member."""
    check("requests_staff", get_settings().rate_limit_requests_per_staff, str(staff_id))
