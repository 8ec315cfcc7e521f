"""`ale-sync demo` as a newcomer runs it: a real worker process, the whole flow, twice."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import Engine, text

from worker.sample_roster import DEMO_DISTRICT

pytestmark = pytest.mark.slow


def outcomes(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    """(last name, status, link method, hold reason) of each created record, in creation order."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                """
                SELECT s.last_name, s.status, a.method, h.reason
                FROM students s
                LEFT JOIN link_audit a ON a.created_record_id = s.id
                LEFT JOIN holds h ON h.created_record_id = s.id
                WHERE s.district_id = :d AND s.origin = 'created'
                ORDER BY s.id
                """
            ),
            {"d": DEMO_DISTRICT},
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_demo_links_holds_and_leaves_unlinked_through_a_real_worker_and_can_run_again(
    committed_engine: Engine, redis_url: str, redis_client: object
) -> None:
    env = {**os.environ, "LOG_FORMAT": "json", "COLUMNS": "200"}
    for _ in range(2):
        result = subprocess.run(
            ["ale-sync", "demo"], capture_output=True, text=True, env=env, check=False, timeout=200
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert outcomes(committed_engine) == [
            ("Okafor", "merged", "ssid", None),
            ("Garcia Lopez", "merged", "other_id", None),
            ("Lee", "active", None, None),
            ("Raman", "active", None, "name_mismatch"),
            ("De La Cruz", "merged", "ssid", None),
        ]
    assert "Celery worker started" in result.stdout
    assert "held: name_mismatch" in result.stdout
    with committed_engine.connect() as connection:
        plans_on_merged = connection.execute(
            text(
                "SELECT count(*) FROM learning_plans p JOIN students s ON s.id = p.student_id "
                "WHERE p.district_id = :d AND s.origin = 'sis'"
            ),
            {"d": DEMO_DISTRICT},
        ).scalar_one()
    assert plans_on_merged == 3  # the three linked records' plans moved to their SIS records
