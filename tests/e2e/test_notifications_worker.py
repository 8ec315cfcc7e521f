"""Notifications through the real processes: beat's round, run by a worker, mails a held batch's
alert to the district's ops address and the digest to its registrar, once each."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models import Batch, BatchStatus, District, StaffRole
from models.db import transaction
from tests.e2e.conftest import StartWorker
from tests.notify_support import add_staff, body_of, mail_env, smtp_server
from tests.worker_harness import deliver, save_created_record, sis_rows, wait_for
from worker.enqueue import enqueue_pull

pytestmark = pytest.mark.slow

DISTRICT = "32201"
OPS = "ops@district.example.org"


@pytest.fixture
def worker_district() -> str:
    return DISTRICT


def batch_statuses(engine: Engine) -> list[BatchStatus]:
    return [status for _, status in batches(engine)]


def batches(engine: Engine) -> list[tuple[int, BatchStatus]]:
    with transaction(engine) as session:
        query = select(Batch.id, Batch.status).where(Batch.district_id == DISTRICT).order_by(Batch.id)
        return [(batch_id, status) for batch_id, status in session.execute(query)]


def test_a_held_batch_alerts_ops_and_the_registrar_gets_the_digest_once_each(
    committed_engine: Engine, workers: StartWorker, inbox: Path, tmp_path: Path
) -> None:
    save_created_record(committed_engine, DISTRICT, "Noa", "Lee", ssid=None)  # waits for staff
    with transaction(committed_engine) as session:
        session.get(District, DISTRICT).ops_email = OPS  # type: ignore[union-attr]
    add_staff(committed_engine, DISTRICT, "reg", StaffRole.REGISTRAR, "reg@district.example.org")
    with smtp_server(tmp_path / "mailbox") as mailbox:
        # in the inbox before the worker starts: its beat's pull at start finds it (delivered after,
        # it raced that pull, and a pull that came first left it for the next interval)
        deliver(inbox, "batch-1", sis_rows(20))
        workers(beat=True, NOTIFY_INTERVAL_SECONDS="10", **mail_env(mailbox))
        wait_for(lambda: batch_statuses(committed_engine) == [BatchStatus.APPLIED], 60)
        deliver(inbox, "batch-2", sis_rows(10))  # would make half the district inactive: held
        enqueue_pull(DISTRICT)
        wait_for(lambda: batch_statuses(committed_engine)[-1:] == [BatchStatus.HELD], 60)

        wait_for(lambda: len(mailbox.messages()) >= 2, 60)
        time.sleep(12)  # one more round: nothing is sent twice

        messages = mailbox.messages()
    [held_batch] = [batch_id for batch_id, status in batches(committed_engine) if status == BatchStatus.HELD]
    assert sorted((str(m["To"]), str(m["Subject"])) for m in messages) == [
        (OPS, f"ale-sync: batch {held_batch} held"),
        ("reg@district.example.org", "ALE students waiting to be linked: 1"),
    ]
    digest = next(body_of(m) for m in messages if str(m["To"]) != OPS)
    assert "waiting to be linked:     1" in digest
    assert "Noa" not in digest and " Lee" not in digest
