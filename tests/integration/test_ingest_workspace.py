"""A batch's working tables: in a schema of the ingest's own that no commit or rollback leaves
behind, or temporary tables for a database role that may not create schemas."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from config.settings import SourceConfig
from models import BatchStatus
from models.db import transaction
from tests.fixtures.rosters.bundles import students, write_oneroster
from worker.ingest import ingest_batch
from worker.pull import register_delivery

DISTRICT = "17099"


def register(engine: Engine, folder) -> int:
    source = SourceConfig(district=DISTRICT, name="test", inbox=folder.parent)
    with transaction(engine) as session:
        return register_delivery(session, source, folder)[0]


def workspaces_left(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ale_ingest_%'")
            ).scalars()
        )


def test_no_working_schema_outlives_an_applied_or_a_rejected_batch(committed_engine, tmp_path):
    applied = ingest_batch(
        committed_engine, register(committed_engine, write_oneroster(tmp_path / "a", students(5)))
    )
    broken = write_oneroster(tmp_path / "b", students(5))
    (broken / "users.csv").write_text("sourcedId,status\n")  # required columns missing: rejected whole
    rejected = ingest_batch(committed_engine, register(committed_engine, broken))

    assert (applied.status, rejected.status) == (BatchStatus.APPLIED, BatchStatus.REJECTED)
    assert workspaces_left(committed_engine) == []


@pytest.fixture
def limited_engine(committed_engine: Engine, database_url: str):
    """An engine logged in as a role that may read and write the tables but not create schemas."""
    role = f"ale_limited_{uuid.uuid4().hex[:8]}"
    with committed_engine.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        connection.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        connection.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    engine = create_engine(make_url(database_url).set(username=role))
    yield engine
    engine.dispose()
    with committed_engine.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))


def test_a_role_that_may_not_create_schemas_ingests_with_temporary_tables(
    committed_engine, limited_engine, tmp_path
):
    with limited_engine.connect() as connection:
        assert not connection.execute(
            text("SELECT has_database_privilege(current_database(), 'CREATE')")
        ).scalar()
    batch_id = register(committed_engine, write_oneroster(tmp_path / "c", students(7)))

    result = ingest_batch(limited_engine, batch_id)

    assert (result.status, result.counts["inserted"]) == (BatchStatus.APPLIED, 7)
    assert workspaces_left(committed_engine) == []
