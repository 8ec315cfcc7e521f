"""The admin endpoint as uvicorn serves it: readiness names what is down, headers, and its own log lines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import Engine

from tests.admin_support import World, add_student, build_world, free_port, running_admin


def test_ready_answers_503_naming_redis_when_redis_is_unreachable(database_url: str, tmp_path: Path) -> None:
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    with running_admin(database_url, nobody_listens) as base:
        assert httpx.get(f"{base}/health").status_code == 200
        ready = httpx.get(f"{base}/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "database": "ok", "redis": "unreachable"}


def test_the_server_logs_one_json_line_per_request_with_ids_and_no_names(
    database_url: str, redis_url: str, committed_engine: Engine, tmp_path: Path
) -> None:
    world: World = build_world(committed_engine)
    created = add_student(committed_engine, first_name="Zebulon", last_name="Quistgaard", ssid="0012345678")
    log_path = tmp_path / "server.log"
    with running_admin(database_url, redis_url, log_path=log_path) as base:
        auth = world.auth("registrar")
        table = httpx.get(f"{base}/api/unlinked", headers=auth)
        httpx.delete(f"{base}/api/unlinked/{created}", headers=world.auth("teacher"))
    assert table.headers["cache-control"] == "no-store"
    assert table.headers["x-frame-options"] == "DENY"
    assert "Quistgaard" in table.text
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["event"] == "admin_request" and line["route"] != "/health"]
    assert [(r["route"], r["status"]) for r in requests] == [
        ("/api/unlinked", 200),
        ("/api/unlinked/{created_record_id}", 403),
    ]
    assert all(r["request_id"] for r in requests)
    denied = [line for line in lines if line["event"] == "admin_access_denied"]
    assert [(d["reason"], d["staff_id"]) for d in denied] == [("role", world.staff_ids["teacher"])]
    for secret in ("Quistgaard", "Zebulon", "0012345678", world.tokens["registrar"]):
        assert secret not in text
