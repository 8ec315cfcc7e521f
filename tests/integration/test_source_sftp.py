"""An SFTP source read from a real SFTP server (the test peer, its own process): host key pinning,
new files by name, size and time then by checksum, and files moved (never deleted) when configured."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from sqlalchemy import Engine, select

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, SourceState
from models.db import transaction
from tests.fixtures.rosters.bundles import configure_sources, students, write_oneroster, zip_folder
from tests.peers.running import peer_process
from worker.ingest import ingest_batch
from worker.pull import pull_sources
from worker.sources.sftp import _presents_no_pinned_key

DISTRICT = "17099"


class Server:
    def __init__(self, root: Path, port: int, host_key: str, client_key: Path) -> None:
        self.root = root
        self.port = port
        self.host_key = host_key
        self.client_key = client_key

    def source(self, monkeypatch: pytest.MonkeyPatch, **sftp: Any) -> SourceConfig:
        settings = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": "sis",
            "key_file": str(self.client_key),
            "host_keys": [self.host_key],
            "remote_dir": "/outgoing",
            "pattern": "*.zip",
            "settle_seconds": 0,
            "timeout_seconds": 10,
            **sftp,
        }
        source = SourceConfig(district=DISTRICT, name="vendor-sftp", kind="sftp", sftp=settings)
        configure_sources(monkeypatch, source)
        return source

    def drop(self, name: str, bundle_folder: Path) -> Path:
        """Put a zipped bundle in the server's folder the way an uploader does (whole, then renamed)."""
        target = self.root / "outgoing" / name
        partial = target.with_suffix(".part")
        partial.write_bytes(zip_folder(bundle_folder, bundle_folder.parent / f"{name}.zip").read_bytes())
        partial.rename(target)
        old = time.time() - 3600
        os.utime(target, (old, old))
        return target


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    folder = tmp_path_factory.mktemp("ssh-keys")
    host = asyncssh.generate_private_key("ssh-ed25519")
    host.write_private_key(str(folder / "host_key"))
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(str(folder / "client_key"))
    client.write_public_key(str(folder / "client_key.pub"))
    return folder / "host_key", host.export_public_key().decode().strip(), folder / "client_key"


@pytest.fixture
def server(keys: tuple[Path, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    host_key_file, host_public, client_key = keys
    root = tmp_path / "sftp-root"
    (root / "outgoing").mkdir(parents=True)
    args = ["--root", str(root), "--host-key", str(host_key_file), "--client-key", f"{client_key}.pub"]
    with peer_process("tests.peers.sftp_peer", *args) as (_, port):
        yield Server(root, port, host_public, client_key)
    monkeypatch.undo()
    get_settings.cache_clear()


def bundle(tmp_path: Path, name: str, count: int, note: str = "") -> Path:
    return write_oneroster(tmp_path / name, students(count), district=DISTRICT, note=note)


def batches(engine: Engine) -> list[Batch]:
    with transaction(engine) as session:
        return list(session.scalars(select(Batch).where(Batch.district_id == DISTRICT).order_by(Batch.id)))


def last_error(engine: Engine) -> str | None:
    with transaction(engine) as session:
        state = session.get(SourceState, (DISTRICT, "vendor-sftp"))
        return state.last_error if state else None


def test_new_deliveries_are_downloaded_registered_archived_and_ingested(
    committed_engine, server, monkeypatch, tmp_path
):
    server.source(monkeypatch)
    server.drop("roster-2026-11-01.zip", bundle(tmp_path, "a", 5))

    (batch_id,) = pull_sources(committed_engine, DISTRICT)
    result = ingest_batch(committed_engine, batch_id)

    assert result.status == BatchStatus.APPLIED and result.counts["inserted"] == 5
    (batch,) = batches(committed_engine)
    assert batch.provenance["file"] == "/outgoing/roster-2026-11-01.zip"
    assert batch.location == batch.archive_path and Path(batch.archive_path).is_file()
    assert (server.root / "outgoing" / "roster-2026-11-01.zip").is_file()  # never deleted


def test_a_file_already_seen_is_not_downloaded_again_and_the_same_content_renamed_is_no_new_batch(
    committed_engine, server, monkeypatch, tmp_path
):
    server.source(monkeypatch)
    first = server.drop("roster-1.zip", bundle(tmp_path, "a", 5))
    assert len(pull_sources(committed_engine, DISTRICT)) == 1
    first.unlink()
    server.drop("roster-1-again.zip", tmp_path / "a")  # the same files, zipped again under a new name

    assert pull_sources(committed_engine, DISTRICT) == []
    assert pull_sources(committed_engine, DISTRICT) == []
    assert len(batches(committed_engine)) == 1


def test_only_files_matching_the_pattern_that_have_settled_are_taken(
    committed_engine, server, monkeypatch, tmp_path
):
    server.source(monkeypatch, settle_seconds=600)
    server.drop("old.zip", bundle(tmp_path, "a", 3))
    fresh = server.drop("fresh.zip", bundle(tmp_path, "b", 4, note="b"))
    os.utime(fresh, None)  # just written: may still be growing
    (server.root / "outgoing" / "notes.txt").write_text("not a delivery")

    assert len(pull_sources(committed_engine, DISTRICT)) == 1
    assert batches(committed_engine)[0].provenance["file"].endswith("/old.zip")


def test_processed_files_are_moved_to_the_archive_folder_when_configured(
    committed_engine, server, monkeypatch, tmp_path
):
    server.source(monkeypatch, move_processed_to="/outgoing/processed")
    server.drop("roster-1.zip", bundle(tmp_path, "a", 5))

    assert len(pull_sources(committed_engine, DISTRICT)) == 1

    assert not (server.root / "outgoing" / "roster-1.zip").exists()
    assert (server.root / "outgoing" / "processed" / "roster-1.zip").is_file()


@pytest.mark.parametrize("pinned", ["unknown", "changed"])
def test_a_host_key_that_is_not_the_pinned_one_is_refused_before_anything_is_read(
    committed_engine, server, monkeypatch, tmp_path, pinned
):
    other = asyncssh.generate_private_key("ssh-ed25519" if pinned == "changed" else "ecdsa-sha2-nistp256")
    server.source(monkeypatch, host_keys=[other.export_public_key().decode().strip()])
    server.drop("roster-1.zip", bundle(tmp_path, "a", 5))

    assert pull_sources(committed_engine, DISTRICT) == []

    assert batches(committed_engine) == []
    assert last_error(committed_engine) == (
        f"sftp://127.0.0.1:{server.port} did not present one of its pinned host_keys: refused"
    )


def test_a_lost_connection_is_told_apart_from_a_host_key_that_is_not_the_pinned_one(server, monkeypatch):
    """The server may hang up on a key exchange it cannot do before the client reads why; then
    asking the server for its keys, type by type, tells a refused key from a server that is down."""
    other = asyncssh.generate_private_key("ecdsa-sha2-nistp256").export_public_key().decode().strip()
    unknown = server.source(monkeypatch, host_keys=[other]).sftp
    pinned = server.source(monkeypatch).sftp
    both = server.source(monkeypatch, host_keys=[other, server.host_key]).sftp
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        down = server.source(monkeypatch, port=unused.getsockname()[1]).sftp

    assert asyncio.run(_presents_no_pinned_key(unknown)) is True
    assert asyncio.run(_presents_no_pinned_key(pinned)) is False
    assert asyncio.run(_presents_no_pinned_key(both)) is False
    assert asyncio.run(_presents_no_pinned_key(down)) is False
