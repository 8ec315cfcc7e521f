"""A small district world for the admin endpoint's tests: staff of each role, SIS and created records."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the TestClient works the same on httpx itself
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from models import District, LearningPlan, Origin, School, Staff, StaffRole, Student
from models.staff import hash_staff_token, new_staff_token
from tests.conftest import ROOT

__all__ = [
    "ELSEWHERE",
    "HOME",
    "TestClient",
    "World",
    "add_plan",
    "add_student",
    "build_world",
    "free_port",
    "running_admin",
]

HOME = "17001"
ELSEWHERE = "27010"


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # "registrar", "secretary", "teacher", "elsewhere"
    staff_ids: dict[str, int] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(engine: Engine) -> World:
    world = World()
    with Session(engine) as session, session.begin():
        for code in (HOME, ELSEWHERE):
            session.add(District(id=code, name=f"District {code}"))
            session.add(
                School(district_id=code, sis_source_id="sch-1", name="Maple Elementary", org_type="school")
            )
        session.flush()
        people = {
            "registrar": (HOME, StaffRole.REGISTRAR, "Rita Registrar"),
            "secretary": (HOME, StaffRole.SECRETARY, "Sam Secretary"),
            "teacher": (HOME, StaffRole.TEACHER, "Tess Teacher"),
            "elsewhere": (ELSEWHERE, StaffRole.REGISTRAR, "Olga Other"),
        }
        for who, (district, role, name) in people.items():
            token = new_staff_token()
            staff = Staff(district_id=district, role=role, name=name, token_hash=hash_staff_token(token))
            session.add(staff)
            session.flush()
            world.tokens[who], world.staff_ids[who] = token, staff.id
    return world


def add_student(engine: Engine, district: str = HOME, **fields: object) -> int:
    """An SIS record (give sis_source_id) or a created record (leave it out)."""
    origin = Origin.SIS if fields.get("sis_source_id") else Origin.CREATED
    values: dict[str, object] = {"first_name": "Ava", "last_name": "Nguyen", **fields}
    with Session(engine) as session, session.begin():
        record = Student(district_id=district, origin=origin, **values)
        session.add(record)
        session.flush()
        return record.id


def add_plan(engine: Engine, student_id: int, district: str = HOME) -> int:
    with Session(engine) as session, session.begin():
        plan = LearningPlan(
            district_id=district,
            student_id=student_id,
            started_on_student_id=student_id,
            school_year="2026-27",
            start_date=date(2026, 9, 1),
        )
        session.add(plan)
        session.flush()
        return plan.id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_admin(
    database_url: str, redis_url: str, log_path: Path | None = None, workers: int = 1, **env: str
) -> Iterator[str]:
    """`uvicorn admin.app:app` in a subprocess on a free port (its log to `log_path`, WORKERS
    processes); yields its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "COOKIE_SECURE": "false",  # plain http on localhost
        "LOG_FORMAT": "json",
        **env,
    }
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed with the server below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "admin.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-proxy-headers",
        ]
        + (["--workers", str(workers)] if workers > 1 else []),
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the admin server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the admin server did not answer /health within 30 s")
