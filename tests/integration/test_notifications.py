"""The daily digest and the ops alerts, sent through a real SMTP server process (aiosmtpd) from
real Postgres: who gets what, nothing of a student in any mail, and each mail sent once."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from models import BatchStatus, SentNotification, StaffRole
from models.db import transaction
from tests.notify_support import (
    REFUSED,
    Mailbox,
    add_batch,
    add_district,
    add_staff,
    add_waiting_records,
    body_of,
    point_mail_at,
    set_env,
    smtp_server,
)
from worker.cli import app as cli_app
from worker.notify.run import notify_round

DISTRICT = "33001"
OPS = "ops@district.example.org"


@pytest.fixture
def mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_restored: None) -> Iterator[Mailbox]:
    with smtp_server(tmp_path / "mailbox") as box:
        point_mail_at(monkeypatch, box)
        yield box


@pytest.fixture
def district(committed_engine: Engine) -> str:
    add_district(committed_engine, DISTRICT, ops_email=OPS)
    add_batch(committed_engine, DISTRICT, BatchStatus.APPLIED)  # delivered today: no silence alert
    return DISTRICT


def sent_rows(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SentNotification)) or 0)


def test_the_digest_goes_to_registrars_and_secretaries_who_want_it_with_counts_and_no_student_data(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    add_waiting_records(committed_engine, district, days_old=5)
    add_staff(committed_engine, district, "reg", StaffRole.REGISTRAR, "reg@district.example.org")
    add_staff(committed_engine, district, "sec", StaffRole.SECRETARY, "sec@district.example.org")
    add_staff(committed_engine, district, "out", StaffRole.SECRETARY, "out@district.example.org",
              digest_opted_out_at=datetime.now(UTC))  # fmt: skip
    add_staff(committed_engine, district, "teach", StaffRole.TEACHER, "teach@district.example.org")
    add_staff(committed_engine, district, "gone", StaffRole.REGISTRAR, "gone@district.example.org",
              revoked_at=datetime.now(UTC))  # fmt: skip
    add_staff(committed_engine, district, "noaddr", StaffRole.REGISTRAR, None)

    report = notify_round(committed_engine)

    assert (report.digests, report.alerts) == (2, 0)
    assert mailbox.addressed_to() == ["reg@district.example.org", "sec@district.example.org"]
    body = body_of(mailbox.messages()[0])
    counts = dict(re.findall(r"^  ([a-z ]+?):\s+(\S+)", body, re.MULTILINE))
    assert counts == {
        "waiting to be linked": "3",
        "held for a person": "1",
        "with a possible match": "0",
        "oldest waiting for": "5",
    }
    assert "https://ale.example.org/link" in body and "https://ale.example.org/digest" in body
    for student_data in ("Priya", "Raman", "Noa", "Lee", "Quill", "5512345678", "5587654321"):
        assert student_data not in body
        assert student_data not in str(mailbox.messages()[0]["Subject"])


def test_a_second_round_the_same_day_sends_no_digest_again(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    add_waiting_records(committed_engine, district, days_old=1)
    add_staff(committed_engine, district, "reg", StaffRole.REGISTRAR, "reg@district.example.org")

    first, again = notify_round(committed_engine), notify_round(committed_engine)

    assert (first.digests, again.digests) == (1, 0)
    assert len(mailbox.messages()) == 1


def test_rounds_running_at_once_in_two_workers_send_each_mail_once(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    add_waiting_records(committed_engine, district, days_old=1)
    for n in range(4):
        add_staff(committed_engine, district, f"reg{n}", StaffRole.REGISTRAR, f"reg{n}@district.example.org")
    add_batch(committed_engine, district, BatchStatus.HELD, hold_reason="deactivates_too_many")

    threads = [threading.Thread(target=notify_round, args=(committed_engine,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(mailbox.messages()) == 5  # four digests, one alert
    assert sent_rows(committed_engine) == 5


def test_no_digest_when_nothing_waits(committed_engine: Engine, mailbox: Mailbox, district: str) -> None:
    add_staff(committed_engine, district, "reg", StaffRole.REGISTRAR, "reg@district.example.org")

    assert notify_round(committed_engine).digests == 0
    assert mailbox.messages() == []


def test_held_rejected_and_failed_batches_each_alert_the_ops_address_once(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    held = add_batch(committed_engine, district, BatchStatus.HELD, hold_reason="deactivates_too_many")
    rejected = add_batch(committed_engine, district, BatchStatus.REJECTED, reject_reason="missing_columns")
    failed = add_batch(committed_engine, district, BatchStatus.FAILED, error="OperationalError")
    add_batch(committed_engine, district, BatchStatus.HELD, days_ago=10)  # old news: no alert
    add_batch(committed_engine, district, BatchStatus.REJECTED, decided_by="ops")  # their own decision

    first, again = notify_round(committed_engine), notify_round(committed_engine)

    assert (first.alerts, again.alerts) == (3, 0)
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages())
    assert subjects == sorted(
        [
            f"ale-sync: batch {held} held",
            f"ale-sync: batch {rejected} rejected",
            f"ale-sync: batch {failed} failed",
        ]
    )
    assert set(mailbox.addressed_to()) == {OPS}
    held_body = next(body_of(m) for m in mailbox.messages() if str(m["Subject"]).endswith("held"))
    assert "deactivates_too_many" in held_body and f"ale-sync batches approve {held}" in held_body


def test_a_district_silent_for_the_configured_days_alerts_once_per_silence(
    committed_engine: Engine, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, NO_DELIVERY_ALERT_DAYS="3")
    add_district(committed_engine, "33002", ops_email=OPS, created_days_ago=30)
    last = add_batch(committed_engine, "33002", BatchStatus.APPLIED, days_ago=4)
    add_district(committed_engine, "33003", ops_email=OPS, created_days_ago=5)  # never delivered
    add_district(committed_engine, "33004", ops_email=OPS, created_days_ago=1)  # new: not yet silent
    add_district(committed_engine, "33005", ops_email=OPS, created_days_ago=30)
    add_batch(committed_engine, "33005", BatchStatus.APPLIED, days_ago=1)

    first, again = notify_round(committed_engine), notify_round(committed_engine)

    assert (first.alerts, again.alerts) == (2, 0)
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages())
    assert subjects == [
        "ale-sync: no delivery from district 33002",
        "ale-sync: no delivery from district 33003",
    ]
    body = next(body_of(m) for m in mailbox.messages() if "33002" in str(m["Subject"]))
    assert f"the last was batch {last}" in body
    # a new delivery ends the silence; another silence later alerts again
    add_batch(committed_engine, "33002", BatchStatus.APPLIED, days_ago=3.5)
    assert notify_round(committed_engine).alerts == 1


def test_a_refused_address_does_not_stop_the_others_and_is_tried_again_next_round(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    add_waiting_records(committed_engine, district, days_old=1)
    add_staff(committed_engine, district, "bad", StaffRole.REGISTRAR, REFUSED)
    add_staff(committed_engine, district, "good", StaffRole.SECRETARY, "good@district.example.org")

    first, again = notify_round(committed_engine), notify_round(committed_engine)

    assert (first.digests, again.digests) == (1, 0)
    assert mailbox.addressed_to() == ["good@district.example.org"]
    with transaction(committed_engine) as session:
        recipients = session.scalars(select(SentNotification.recipient)).all()
    assert recipients == ["good@district.example.org"]  # the refused one is not marked sent


def test_staff_opted_out_from_the_cli_get_no_digest_and_opted_back_in_do(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    add_waiting_records(committed_engine, district, days_old=1)
    staff_id = add_staff(committed_engine, district, "reg", StaffRole.REGISTRAR, "reg@district.example.org")
    runner = CliRunner()

    assert runner.invoke(cli_app, ["notifications", "digest", str(staff_id), "--off"]).exit_code == 0
    assert notify_round(committed_engine).digests == 0
    assert runner.invoke(cli_app, ["notifications", "digest", str(staff_id), "--on"]).exit_code == 0
    assert notify_round(committed_engine).digests == 1


def test_ops_set_the_district_ops_address_and_staff_addresses_from_the_cli(
    committed_engine: Engine, mailbox: Mailbox, district: str
) -> None:
    staff_id = add_staff(committed_engine, district, "reg", StaffRole.REGISTRAR, None)
    runner = CliRunner()

    assert (
        runner.invoke(cli_app, ["notifications", "ops-address", district, "alerts@d.example.org"]).exit_code
        == 0
    )
    assert (
        runner.invoke(cli_app, ["notifications", "staff-address", str(staff_id), "r@d.example.org"]).exit_code
        == 0
    )
    refused = runner.invoke(cli_app, ["notifications", "staff-address", str(staff_id), "not an address"])
    add_waiting_records(committed_engine, district, days_old=1)
    add_batch(committed_engine, district, BatchStatus.FAILED, error="OperationalError")
    notify_round(committed_engine)

    assert refused.exit_code == 2
    assert mailbox.addressed_to() == ["alerts@d.example.org", "r@d.example.org"]


def test_the_digest_waits_for_the_digest_hour_in_each_districts_own_time_zone(
    committed_engine: Engine, mailbox: Mailbox, district: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """7:00 in New York comes three hours before 7:00 in the Pacific district; each district gets
    its digest from its own 7:00 on, once for its own day."""
    eastern = "33002"
    add_district(committed_engine, eastern, timezone="America/New_York")
    add_batch(committed_engine, eastern, BatchStatus.APPLIED)
    for code in (district, eastern):
        add_waiting_records(committed_engine, code, days_old=1)
        add_staff(committed_engine, code, f"reg{code}", StaffRole.REGISTRAR, f"reg@{code}.example.org")
    set_env(monkeypatch, DIGEST_HOUR="7")
    winter = datetime(2026, 1, 15, tzinfo=UTC)

    assert notify_round(committed_engine, winter.replace(hour=11, minute=59)).digests == 0  # 6:59 EST
    assert notify_round(committed_engine, winter.replace(hour=12)).digests == 1  # 7:00 EST, 4:00 PST
    assert mailbox.addressed_to() == [f"reg@{eastern}.example.org"]
    assert notify_round(committed_engine, winter.replace(hour=14, minute=59)).digests == 0  # 6:59 PST
    assert notify_round(committed_engine, winter.replace(hour=15)).digests == 1  # 7:00 PST
    assert notify_round(committed_engine, winter.replace(hour=23)).digests == 0  # both sent today
    # 1:00 UTC on the 16th is still the 15th in both districts: nothing new
    assert notify_round(committed_engine, winter.replace(day=16, hour=1)).digests == 0
    assert notify_round(committed_engine, winter.replace(day=16, hour=12)).digests == 1  # New York's 16th
