"""Shared fixtures: real Postgres and Redis, isolated per test.

The suite uses DATABASE_URL / REDIS_URL when set (CI points them at the machine's
services) and the embedded servers otherwise. Each pytest process gets a database of
its own, migrated once; each test runs inside a transaction that is rolled back
(`db_session`), or, where it must commit (workers, concurrency), on tables truncated
after it (`committed_engine`). Each pytest process gets its own Redis database number (1-14:
0 is real use's, 15 the demo's), flushed before each test that asks for `redis_client`; from the
start of the session every process the tests start points there too, so nothing a test queues
ever reaches a broker database a real worker reads.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from config.embedded import data_home, embedded_database_url, embedded_redis_url, normalise_database_url
from config.services import database_url as app_database_url
from config.services import redis_py_url, with_redis_db
from config.services import redis_url as app_redis_url
from config.settings import get_settings
from models import Base
from models.db import dispose_engines, get_engine
from models.migrate import upgrade
from tests.worker_harness import celery_pointed_at

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def _server_database_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return normalise_database_url(configured)
    return embedded_database_url(data_home())


CONFIGURED_REDIS_URL = os.environ.get("REDIS_URL")


def _server_redis_url() -> str:
    return CONFIGURED_REDIS_URL or embedded_redis_url(data_home())


def _test_redis_db() -> int:
    return int(os.environ.get("ALE_TEST_REDIS_DB") or 1 + _worker_index() % 14)


def redis_client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_py_url(url))


def _clear_app_caches() -> None:
    dispose_engines()
    for cached in (get_settings, app_database_url, app_redis_url):
        cached.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _never_the_real_broker() -> Iterator[None]:
    """Before any test runs, REDIS_URL names this process's test database (the embedded server's
    socket is known before it starts), so whatever a test publishes lands there."""
    previous = os.environ.get("REDIS_URL")
    server = CONFIGURED_REDIS_URL or f"redis+socket://{data_home() / 'redis.sock'}"
    os.environ["REDIS_URL"] = with_redis_db(server, _test_redis_db())
    _clear_app_caches()
    yield
    if previous is None:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = previous
    _clear_app_caches()


@pytest.fixture(scope="session", autouse=True)
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every delivery a test registers is archived here, not in the user's data directory."""
    folder = tmp_path_factory.mktemp("archive")
    previous = os.environ.get("ARCHIVE_DIR")
    os.environ["ARCHIVE_DIR"] = str(folder)
    _clear_app_caches()
    yield folder
    if previous is None:
        os.environ.pop("ARCHIVE_DIR", None)
    else:
        os.environ["ARCHIVE_DIR"] = previous


@pytest.fixture
def settings_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings a test changed through the environment are undone, and re-read, after it."""
    yield
    monkeypatch.undo()
    _clear_app_caches()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this pytest process, migrated to head, dropped at the end."""
    server = make_url(_server_database_url())
    name = f"ale_test_{_worker_index()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    _clear_app_caches()
    yield url
    _clear_app_caches()
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = get_engine()
    yield engine
    # a later fixture (redis_url) may clear the engine cache, so close this one explicitly
    engine.dispose()


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end; commits inside become savepoints."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    with rolled_back(engine) as session:
        yield session


@pytest.fixture
def committed_engine(engine: Engine) -> Iterator[Engine]:
    """For tests whose work must really commit: every table is emptied after the test."""
    yield engine
    truncate_all(engine)


def truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# autouse: every test, and every command a test runs, queues into this process's own database,
# never into one a real worker reads (an ingest publishes its event as soon as it commits)
@pytest.fixture(scope="session", autouse=True)
def redis_url() -> Iterator[str]:
    """This pytest process's Redis database (1-14, never real use's 0 nor the demo's 15;
    ALE_TEST_REDIS_DB overrides), its server started if it is the embedded one.

    The Celery app is pointed there too: collection can have read its configuration already, from
    the REDIS_URL the suite was started with (pytest looks at every name a test module imports,
    and looking at a task binds it to the app)."""
    url = with_redis_db(_server_redis_url(), _test_redis_db())
    previous = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = url
    _clear_app_caches()
    with celery_pointed_at(url):
        yield url
    if previous is None:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = previous
    _clear_app_caches()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis_client_for(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def broker(redis_url: str, redis_client: redis.Redis) -> str:
    """The Redis database this process's Celery app queues into (see `redis_url`), emptied."""
    return redis_url


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, beside the project; tests that need it skip cleanly when it is absent."""
    folder = SHARED / "data"
    if not folder.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return folder
