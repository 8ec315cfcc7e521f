"""The admin server under uvicorn when things go wrong: a database connection killed in the middle
of a request, and rate limits shared by two web processes through Redis."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from tests.admin_support import World, add_student, build_world, running_admin
from tests.worker_harness import wait_for

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(redis_client: object, committed_engine: Engine) -> World:
    return build_world(committed_engine)


def log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def route_lines(path: Path, route: str, answered: int) -> list[dict[str, object]]:
    """The log's lines for `route` once `answered` requests of it are logged: the server writes a
    request's `admin_request` line after its answer has gone out, so the test can read first."""

    def lines() -> list[dict[str, object]]:
        return [line for line in log_lines(path) if line.get("route") == route]

    wait_for(lambda: sum(line["event"] == "admin_request" for line in lines()) >= answered, 10)
    return lines()


def kill_the_request_waiting_on(watcher: Connection, table: str) -> None:
    """Once a server connection waits on the locked `table`, terminate its backend (the watcher
    is a connection of its own: activity read inside the locking transaction would not change)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        waiting = (
            watcher.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query ILIKE :table"
                ),
                {"table": f"%{table}%"},
            )
            .scalars()
            .all()
        )
        if waiting:
            for pid in waiting:
                watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            return
        time.sleep(0.05)
    raise AssertionError(f"no request waited on {table}")


def while_killing(database_url: str, table: str, request: callable) -> httpx.Response:  # type: ignore[valid-type]
    """Run `request` in a thread while its database connection is killed mid-query."""
    answers: list[httpx.Response] = []
    engine = create_engine(database_url)
    with (
        engine.connect() as locker,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher,
    ):
        locker.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        worker = threading.Thread(target=lambda: answers.append(request()))
        worker.start()
        kill_the_request_waiting_on(watcher, table)
        locker.rollback()
    worker.join(timeout=30)
    engine.dispose()
    return answers[0]


@pytest.fixture
def server(world: World, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "admin.log"
    with running_admin(database_url, redis_url, log_path) as base:
        yield base, log_path


def test_a_database_connection_killed_mid_request_answers_a_full_500(
    server: tuple[str, Path], world: World, database_url: str, committed_engine: Engine
) -> None:
    base, log_path = server
    add_student(committed_engine, first_name="Zebulon", last_name="Quistgaard")
    auth = world.auth("registrar")
    answer = while_killing(
        database_url, "staff", lambda: httpx.get(f"{base}/api/unlinked", headers=auth, timeout=30)
    )
    assert answer.status_code == 500
    body = answer.json()
    assert (set(body), body["code"]) == ({"code", "message", "fields"}, "internal_error")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert httpx.get(f"{base}/api/unlinked", headers=auth).status_code == 200  # the next one is served
    lines = route_lines(log_path, "/api/unlinked", answered=2)
    assert [(line["event"], line.get("status")) for line in lines] == [
        ("admin_request_failed", None),
        ("admin_request", 500),
        ("admin_request", 200),
    ]
    assert str(body["message"]).endswith(f"reference {lines[0]['request_id']}.")
    assert "Quistgaard" not in log_path.read_text()


def test_a_page_whose_query_is_killed_shows_the_error_page_with_the_staff_member(
    server: tuple[str, Path], world: World, database_url: str
) -> None:
    base, log_path = server
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/login?district=17001")
        browser.post(
            "/login", data={"token": world.tokens["registrar"], "csrf_token": CSRF.search(form.text).group(1)}
        )  # type: ignore[union-attr]
        page = while_killing(database_url, "students", lambda: browser.get("/link", timeout=30))
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert "Rita Registrar" in page.text and 'href="/selector"' in page.text
    assert page.headers["cache-control"] == "no-store"
    lines = route_lines(log_path, "/link", answered=1)
    assert [line["status"] for line in lines if line["event"] == "admin_request"] == [500]


def test_two_web_processes_share_one_sign_in_limit_through_redis(
    world: World, database_url: str, redis_url: str
) -> None:
    limit = {"RATE_LIMIT_SIGN_IN_PER_ADDRESS": "6/minute"}
    with (
        running_admin(database_url, redis_url, **limit) as first,
        running_admin(database_url, redis_url, **limit) as second,
    ):
        statuses = [
            httpx.post(f"{base}/login", data={"token": "x", "csrf_token": "x"}).status_code
            for base in [first, second] * 4
        ]
    assert statuses == [403] * 6 + [429, 429]


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(
    world: World, database_url: str, redis_url: str
) -> None:
    limit = {"RATE_LIMIT_SIGN_IN_PER_ADDRESS": "2/minute"}

    def tries(base: str, forwarded: list[str]) -> list[int]:
        return [
            httpx.post(
                f"{base}/login", data={"token": "x", "csrf_token": "x"}, headers={"X-Forwarded-For": hop}
            ).status_code
            for hop in forwarded
        ]

    with running_admin(database_url, redis_url, **limit) as direct:
        # no proxy trusted: a client naming a new address each time is still one address
        assert tries(direct, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [403, 403, 429]
    with running_admin(database_url, redis_url, TRUSTED_PROXIES='["127.0.0.1"]', **limit) as proxied:
        assert tries(proxied, ["198.51.100.7", "198.51.100.7", "198.51.100.7", "198.51.100.8"]) == [
            403,
            403,
            429,
            403,
        ]
