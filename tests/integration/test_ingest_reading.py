"""How a delivery is read: the same rows are unchanged whichever path read them, limits are
settings, a refused delivery is registered rejected once, and a batch that fails names the
error's class and the step (never a value) in the ledger, `ale-sync status` and `ale-sync ingest`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus
from models.db import transaction
from tests.fixtures.rosters.bundles import configure_sources, student, students, write_oneroster
from tests.integration.ingest_support import DISTRICT, SOURCE, ingest
from worker.cli import app as cli_app
from worker.ingest import ingest_batch
from worker.ops_queries import district_status
from worker.pull import pull_sources, register_delivery

pytestmark = pytest.mark.usefixtures("settings_restored")


def with_quoted_empties(folder: Path) -> Path:
    """Some empty fields quoted (`""`), as some exports write them: the values stay the same."""
    users = folder / "users.csv"
    lines = users.read_bytes().split(b"\r\n")
    lines[1] = lines[1].replace(b",,", b',"",', 1)
    users.write_bytes(b"\r\n".join(lines))
    return folder


def read_by_python(folder: Path) -> Path:
    """The same rows, with line ends COPY would refuse from the first record on (LF, then CRLF)."""
    users = folder / "users.csv"
    users.write_bytes(users.read_bytes().replace(b"\r\n", b"\n", 2))
    return folder


ROWS = [*students(5), student("stu-e", middleName="", grades="")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (with_quoted_empties, read_by_python),  # COPY, then Python's csv reader
        (read_by_python, with_quoted_empties),  # the other way round
    ],
)
def test_the_same_rows_read_by_copy_and_by_the_csv_reader_count_as_unchanged(
    committed_engine, tmp_path, first: Callable[[Path], Path], second: Callable[[Path], Path]
):
    applied = ingest(committed_engine, first(write_oneroster(tmp_path / "1", ROWS)))
    again = ingest(committed_engine, second(write_oneroster(tmp_path / "2", ROWS, note="again")))

    assert applied.counts["inserted"] == len(ROWS)
    assert (again.status, again.counts["updated"], again.counts["unchanged"]) == (
        BatchStatus.APPLIED,
        0,
        len(ROWS),
    )


def test_the_decompressed_size_limits_are_settings(committed_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DELIVERY_MAX_TOTAL_BYTES", str(1 << 20))
    get_settings.cache_clear()
    rows = [student(f"stu-{n}", familyName="L" * 150) for n in range(6000)]  # about 1.2 MB

    result = ingest(committed_engine, write_oneroster(tmp_path / "big", rows))

    assert result.status == BatchStatus.REJECTED
    assert "DELIVERY_MAX_TOTAL_BYTES" in (result.reason or "")


def test_a_refused_delivery_in_the_inbox_is_registered_rejected_once(committed_engine, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "2026-11-01.zip").write_bytes(b"PK\x03\x04 not really a zip")
    configure_sources(monkeypatch, SourceConfig(district=DISTRICT, name="inbox", inbox=inbox))

    first, second = pull_sources(committed_engine), pull_sources(committed_engine)

    assert second == []
    with transaction(committed_engine) as session:
        batches = session.execute(select(Batch.id, Batch.status, Batch.reject_reason)).all()
    assert [(b.id, b.status, b.reject_reason) for b in batches] == [
        (first[0], BatchStatus.REJECTED, "'2026-11-01.zip' cannot be read: the zip is truncated or corrupt")
    ]


@pytest.fixture
def schools_refused(committed_engine):
    """The schools table refuses this delivery's school: an error the ingest does not expect."""
    with committed_engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE schools ADD CONSTRAINT refused_in_test CHECK (name <> 'First School')")
        )
    yield
    with committed_engine.begin() as connection:
        connection.execute(text("ALTER TABLE schools DROP CONSTRAINT refused_in_test"))


FAILURE = "CheckViolation (SQLSTATE 23514) while writing the district's name and schools"


def test_a_batch_failing_in_the_database_names_the_error_class_and_step(
    committed_engine, tmp_path, schools_refused
):
    bundle = write_oneroster(tmp_path / "1", students(3))
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, bundle)

    with pytest.raises(Exception, match="refused_in_test"):
        ingest_batch(committed_engine, batch_id)

    with transaction(committed_engine) as session:
        assert session.get(Batch, batch_id).error == FAILURE
        [status] = district_status(session, DISTRICT)
    assert status["last_error"] == f"batch {batch_id} failed: {FAILURE}"


def test_ale_sync_ingest_says_which_step_failed_and_exits_1(committed_engine, tmp_path, schools_refused):
    bundle = write_oneroster(tmp_path / "1", students(3))

    result = CliRunner().invoke(cli_app, ["ingest", str(bundle), "--district", DISTRICT])

    assert result.exit_code == 1
    assert "failed" in result.stdout
    assert f"reason: {FAILURE}" in " ".join(result.stdout.split())
    assert "First School" not in result.stdout
