"""Engine and session handling. The edge (task, request, CLI command) owns the transaction."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from config.services import database_url


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL per process; the default URL comes from config.services."""
    if url is None:
        url = database_url()
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine)
    _ENGINES.append(engine)
    return engine


# a pooled connection that waited longer than this is pinged before it is used (a restarted server
# leaves the pool's connections dead); one reused within seconds is not: a web request takes two or
# three connections, and a round trip for each cost more than a light staff page's own queries
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def returned(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def taken(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as dead:
            raise DisconnectionError from dead  # the pool opens a fresh connection instead


def dispose_engines() -> None:
    """Close every pooled connection of this process (tests, and after a fork)."""
    for engine in _ENGINES:
        engine.dispose()
    _ENGINES.clear()
    get_engine.cache_clear()
    _factory.cache_clear()


_ENGINES: list[Engine] = []


@lru_cache(maxsize=4)
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return _factory(engine or get_engine())


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """`with transaction() as session:` commits on success, rolls back on any error."""
    with session_factory(engine).begin() as session:
        yield session


def district_lock_key(scope: str, district_id: str) -> int:
    """A stable 63-bit advisory-lock key for (scope, district): ingest and match each have one."""
    return zlib.crc32(f"{scope}:{district_id}".encode()) | (
        zlib.crc32(scope.encode()) << 32 & 0x7FFF_FFFF_0000_0000
    )


def lock_district(session: Session, scope: str, district_id: str) -> None:
    """Wait for the district's lock for this transaction: one ingest (or match) per district at once."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": district_lock_key(scope, district_id)})


def try_lock_district(session: Session, scope: str, district_id: str) -> bool:
    """Take the district's lock for this transaction if free; False means another run holds it."""
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": district_lock_key(scope, district_id)}
    ).scalar_one()
    return bool(got)
