"""For the notification tests: a real SMTP server process whose mailbox is a folder, the mail
settings pointed at it, and a district seeded with staff, waiting records and batches."""

from __future__ import annotations

import email
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.settings import get_settings
from models import Batch, BatchStatus, District, HoldReason, HoldRow, Origin, Staff, StaffRole, Student
from models.db import transaction
from tests.peers.running import peer_process

REFUSED = "bounce@district.example.org"


@dataclass(frozen=True)
class Mailbox:
    folder: Path
    port: int

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(self.folder.glob("*.eml"))]

    def addressed_to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages())


@contextmanager
def smtp_server(folder: Path) -> Iterator[Mailbox]:
    with peer_process("tests.peers.smtp_peer", str(folder), REFUSED) as (_, port):
        yield Mailbox(folder, port)


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Change settings through the environment (undone by the `settings_restored` fixture)."""
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def mail_env(mailbox: Mailbox) -> dict[str, str]:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_STARTTLS": "false",
        "PUBLIC_URL": "https://ale.example.org",
        "DIGEST_HOUR": "0",
    }


def point_mail_at(monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox) -> None:
    set_env(monkeypatch, **mail_env(mailbox))


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def add_staff(
    engine: Engine, district: str, name: str, role: StaffRole, email_address: str | None, **extra: object
) -> int:
    with transaction(engine) as session:
        staff = Staff(
            district_id=district,
            name=name,
            role=role,
            token_hash=f"{name:0<64}"[:64],
            email=email_address,
            **extra,
        )
        session.add(staff)
        session.flush()
        return staff.id


def add_district(
    engine: Engine,
    district: str,
    ops_email: str | None = None,
    created_days_ago: int = 0,
    timezone: str = "America/Los_Angeles",
) -> None:
    with transaction(engine) as session:
        created = datetime.now(UTC) - timedelta(days=created_days_ago)
        session.add(
            District(
                id=district,
                name=f"District {district}",
                ops_email=ops_email,
                created_at=created,
                timezone=timezone,
            )
        )


def add_waiting_records(engine: Engine, district: str, days_old: int) -> list[int]:
    """Three created records waiting: one with an SSID, one held, one without ids."""
    created = datetime.now(UTC) - timedelta(days=days_old)
    with transaction(engine) as session:
        records = [
            Student(district_id=district, origin=Origin.CREATED, first_name="Priya", last_name="Raman",
                    ssid="5512345678", created_at=created),
            Student(district_id=district, origin=Origin.CREATED, first_name="Noa", last_name="Lee",
                    ssid="5587654321", created_at=created + timedelta(days=1)),
            Student(district_id=district, origin=Origin.CREATED, first_name="Ada", last_name="Quill",
                    created_at=datetime.now(UTC)),
        ]  # fmt: skip
        session.add_all(records)
        session.flush()
        session.add(
            HoldRow(created_record_id=records[1].id, district_id=district, reason=HoldReason.NAME_MISMATCH)
        )
        return [r.id for r in records]


def add_batch(
    engine: Engine, district: str, status: BatchStatus, *, days_ago: float = 0, **extra: object
) -> int:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    with transaction(engine) as session:
        batch = Batch(
            district_id=district, source_name="sis", location="/nowhere", checksum=uuid.uuid4().hex * 2,
            status=status, received_at=at, finished_at=at, **extra,
        )  # fmt: skip
        session.add(batch)
        session.flush()
        return batch.id
