"""The URLs this process uses: the configured ones, or the embedded servers' (started on first use)."""

from __future__ import annotations

from functools import lru_cache

from config.embedded import data_home, embedded_database_url, embedded_redis_url, normalise_database_url
from config.settings import get_settings


@lru_cache(maxsize=1)
def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return normalise_database_url(settings.database_url)
    return embedded_database_url(data_home(settings.data_dir))


@lru_cache(maxsize=1)
def redis_url() -> str:
    settings = get_settings()
    if settings.redis_url:
        return settings.redis_url
    return embedded_redis_url(data_home(settings.data_dir))


def redis_py_url(url: str) -> str:
    """redis-py spells Celery's redis+socket:///path?virtual_host=N as unix:///path?db=N."""
    if not url.startswith("redis+socket://"):
        return url
    path, _, query = url[len("redis+socket://") :].partition("?")
    db = query.split("=", 1)[1] if query.startswith("virtual_host=") else "0"
    return f"unix://{path}?db={db}"


def with_redis_db(url: str, db: int) -> str:
    """The same Redis server, another database number, in the form URL is written in."""
    if url.startswith("redis+socket://"):
        return f"{url.split('?', 1)[0]}?virtual_host={db}"
    if url.startswith("unix://"):
        return f"{url.split('?', 1)[0]}?db={db}"
    base, _, query = url.partition("?")
    parts = base.rstrip("/").split("/")
    if len(parts) > 3 and parts[-1].isdigit():
        parts = parts[:-1]
    return "/".join(parts) + f"/{db}" + (f"?{query}" if query else "")


def redis_client_url() -> str:
    """This process's Redis in the form redis-py reads."""
    return redis_py_url(redis_url())
