"""Fixtures the admin endpoint's integration tests share: a seeded district and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine

from admin.app import app
from tests.admin_support import TestClient, World, build_world


@pytest.fixture
def world(redis_client: redis.Redis, committed_engine: Engine) -> World:
    """The seeded district, with this test's Redis emptied (rate-limit counts start at zero)."""
    return build_world(committed_engine)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
