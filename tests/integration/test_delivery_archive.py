"""Every delivery is archived as received (compressed, by checksum, private), old archives go after
the retention period, and an archived delivery can be replayed as a new batch."""

from __future__ import annotations

import stat
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from config.settings import IdentifierSource, SourceConfig
from models import Batch, BatchStatus, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import configure_sources, students, write_oneroster
from worker.ingest import dry_run, ingest_batch
from worker.pull import pull_sources, register_delivery
from worker.sources.archive import prune_archive
from worker.sources.delivery import open_delivery
from worker.sources.replay import ReplayRefused, replay_batch

DISTRICT = "17099"


pytestmark = pytest.mark.usefixtures("settings_restored")


def inbox_source(inbox: Path, **fields) -> SourceConfig:
    return SourceConfig(district=DISTRICT, name="nightly", inbox=inbox, **fields)


def batch(engine: Engine, batch_id: int) -> Batch:
    with transaction(engine) as session:
        found = session.get(Batch, batch_id)
        assert found is not None
        return found


def ssids(engine: Engine) -> set[str | None]:
    with transaction(engine) as session:
        return set(session.scalars(select(Student.ssid).where(Student.district_id == DISTRICT)))


def test_an_inbox_delivery_is_archived_compressed_by_its_checksum_and_readable_by_ale_sync_only(
    committed_engine, tmp_path, monkeypatch, archive_dir
):
    inbox = tmp_path / "inbox"
    write_oneroster(inbox / "2026-11-01", students(6), district=DISTRICT)
    configure_sources(monkeypatch, inbox_source(inbox))

    (batch_id,) = pull_sources(committed_engine, DISTRICT)

    stored = batch(committed_engine, batch_id)
    archived = Path(stored.archive_path)
    assert archived == archive_dir / DISTRICT / stored.checksum[:2] / f"{stored.checksum}.zip"
    assert zipfile.is_zipfile(archived) and open_delivery(archived).checksum() == stored.checksum
    assert stat.S_IMODE(archived.stat().st_mode) == 0o600
    for folder in (archived.parent, archived.parent.parent, archive_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stored.provenance == {"source_kind": "inbox", "file": str((inbox / "2026-11-01").resolve())}


def test_a_plain_csv_delivery_is_archived_as_a_zip_of_the_file_as_sent(committed_engine, tmp_path):
    export = tmp_path / "students_export.csv"
    export.write_text("sourced_id,first_name,last_name\ns-1,Ana,Lee\n", encoding="utf-8")
    source = SourceConfig(district=DISTRICT, name="csv", inbox=tmp_path, format="csv")

    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, source, export)

    archived = Path(batch(committed_engine, batch_id).archive_path)
    with zipfile.ZipFile(archived) as archive:
        assert archive.namelist() == ["students_export.csv"]
        assert archive.read("students_export.csv") == export.read_bytes()


def test_a_replay_after_fixing_the_mapping_reingests_the_archived_delivery_as_a_new_batch(
    committed_engine, tmp_path, monkeypatch
):
    inbox = tmp_path / "inbox"
    delivery = write_oneroster(inbox / "2026-11-01", students(6), district=DISTRICT)
    configure_sources(monkeypatch, inbox_source(inbox, ssid_from=IdentifierSource(kind="column", column="x")))
    (first,) = pull_sources(committed_engine, DISTRICT)
    ingest_batch(committed_engine, first)
    assert ssids(committed_engine) == {None}
    configure_sources(monkeypatch, inbox_source(inbox))  # the mapping fixed: SSIDs from userIds
    for item in delivery.iterdir():
        item.unlink()  # the inbox was emptied since: the archive is what is left

    replayed = replay_batch(committed_engine, first)
    result = ingest_batch(committed_engine, replayed)

    assert result.status == BatchStatus.APPLIED and result.counts["updated"] == 6
    assert None not in ssids(committed_engine)
    again = batch(committed_engine, replayed)
    assert (again.replay_of, again.checksum) == (first, batch(committed_engine, first).checksum)
    assert again.provenance["source_kind"] == "replay"


def test_a_replay_dry_run_changes_nothing(committed_engine, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    write_oneroster(inbox / "2026-11-01", students(6), district=DISTRICT)
    configure_sources(monkeypatch, inbox_source(inbox))
    (first,) = pull_sources(committed_engine, DISTRICT)
    ingest_batch(committed_engine, first)
    stored = batch(committed_engine, first)

    plan = dry_run(Path(stored.archive_path), inbox_source(inbox))

    assert plan.counts["unchanged"] == 6
    with transaction(committed_engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1


def test_replaying_a_batch_older_than_an_applied_one_is_refused(committed_engine, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    write_oneroster(inbox / "2026-11-01", students(6), district=DISTRICT)
    write_oneroster(inbox / "2026-11-02", students(6), district=DISTRICT, note="second")
    configure_sources(monkeypatch, inbox_source(inbox))
    first, second = pull_sources(committed_engine, DISTRICT)
    ingest_batch(committed_engine, first)
    ingest_batch(committed_engine, second)

    with pytest.raises(ReplayRefused, match=f"older than applied batch {second}"):
        replay_batch(committed_engine, first)


def test_archives_past_the_retention_period_are_removed_and_the_ledger_kept(
    committed_engine, tmp_path, monkeypatch
):
    inbox = tmp_path / "inbox"
    write_oneroster(inbox / "old", students(3), district=DISTRICT)
    write_oneroster(inbox / "new", students(4), district=DISTRICT)
    configure_sources(monkeypatch, inbox_source(inbox))
    new, old = pull_sources(committed_engine, DISTRICT)
    ingest_batch(committed_engine, old)
    with transaction(committed_engine) as session:
        session.execute(
            update(Batch).where(Batch.id == old).values(received_at=func.now() - timedelta(days=401))
        )
    old_file = Path(batch(committed_engine, old).archive_path)

    with transaction(committed_engine) as session:
        removed = prune_archive(session, DISTRICT, retention_days=400)

    assert removed == 1 and not old_file.exists()
    assert batch(committed_engine, old).archive_path is None
    assert Path(batch(committed_engine, new).archive_path).is_file()
