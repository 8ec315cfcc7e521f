"""The key that signs staff page sessions: SESSION_SECRET, or one generated once and kept in the database."""

from __future__ import annotations

import secrets
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from config.settings import get_settings
from models import AppSecret
from models.db import get_engine, transaction

SECRET_NAME = "session_secret"  # noqa: S105 - the row's name, not a secret


@lru_cache(maxsize=4)
def _stored_secret(database: str) -> str:
    # every web process inserts a candidate; the first one wins and all read it back, so
    # processes started together still share one key
    with transaction(get_engine()) as session:
        session.execute(
            insert(AppSecret)
            .values(name=SECRET_NAME, value=secrets.token_urlsafe(48))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        return session.execute(select(AppSecret.value).where(AppSecret.name == SECRET_NAME)).scalar_one()


def session_secret() -> str:
    configured = get_settings().session_secret
    if configured:
        return configured
    return _stored_secret(get_engine().url.render_as_string())


def forget_cached_secret() -> None:
    _stored_secret.cache_clear()
