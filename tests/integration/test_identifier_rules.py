"""One rule per identifier, applied alike by the ingest (SQL) and staff input (the JSON API):
every Other ID and SSID the ingest stores staff can type, and every one staff cannot type the
ingest quarantines with the reason config/identifiers.py gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config.identifiers import other_id_problem, ssid_problem
from config.settings import SourceConfig, get_settings
from models import QuarantinedRow, Student
from models.db import transaction
from tests.admin_support import HOME, TestClient, World
from tests.fixtures.rosters.bundles import student, write_oneroster
from worker.ingest import ingest_batch
from worker.pull import register_delivery

OTHER_IDS = [
    ("user identifier", None),  # a space inside, as one SIS sends its student numbers
    ("S-0042/7 (b)", None),  # punctuation
    ("Ünal7", None),  # a letter beyond ASCII
    ("7" * 64, None),  # the longest there is
    ("7" * 65, "value_too_long"),  # one character too many
    ("12\x0734", "other_id_format"),  # a control character (BEL) inside
]
SSIDS = [
    ("0123456789", None),  # the state's ten digits, leading zero kept
    ("١٢٣٤٥٦٧٨٩٠", "ssid_pattern"),  # ten digits, but not 0-9
    ("012345678", "ssid_pattern"),  # one digit short
]


def ingest_ids(engine: Engine, folder: Path) -> dict[str, str | None]:
    """Ingest one student per identifier; each sourcedId -> its quarantine reason (None: stored)."""
    rows = [student(f"o-{n}", other_id=value) for n, (value, _) in enumerate(OTHER_IDS)]
    rows += [student(f"s-{n}", ssid=value, other_id=f"ss-{n}") for n, (value, _) in enumerate(SSIDS)]
    path = write_oneroster(folder / "bundle", rows, district=HOME)
    source = SourceConfig(district=HOME, name="ids", inbox=path.parent)
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, source, path)
    ingest_batch(engine, batch_id)
    with transaction(engine) as session:
        stored = set(session.scalars(select(Student.sis_source_id).where(Student.district_id == HOME)))
        reasons = dict(
            session.execute(
                select(QuarantinedRow.sis_source_id, QuarantinedRow.reason_code).where(
                    QuarantinedRow.batch_id == batch_id
                )
            ).all()
        )
    return {
        sid: None if sid in stored else reasons.get(sid, "missing") for sid in [r["sourcedId"] for r in rows]
    }


@pytest.mark.parametrize(("value", "reason"), OTHER_IDS)
def test_the_other_id_rule_gives_the_reason_the_ingest_quarantines_with(
    value: str, reason: str | None
) -> None:
    assert other_id_problem(value) == reason


@pytest.mark.parametrize(("value", "reason"), SSIDS)
def test_the_ssid_rule_gives_the_reason_the_ingest_quarantines_with(value: str, reason: str | None) -> None:
    assert ssid_problem(value, get_settings().ssid_pattern) == reason


def test_what_the_ingest_stores_staff_can_type_and_what_it_quarantines_staff_cannot(
    client: TestClient, world: World, committed_engine: Engine, tmp_path: Path
) -> None:
    verdicts = ingest_ids(committed_engine, tmp_path)

    cases = [(f"o-{n}", "other_id", v, r) for n, (v, r) in enumerate(OTHER_IDS)]
    cases += [(f"s-{n}", "ssid", v, r) for n, (v, r) in enumerate(SSIDS)]
    for sid, field, value, reason in cases:
        assert verdicts[sid] == reason, (sid, verdicts[sid])
        body = {"first_name": "Ana", "last_name": "Lee", field: value}
        answer = client.post("/api/students", json=body, headers=world.auth("secretary"))
        if reason is None:
            assert answer.status_code == 201, (sid, answer.json())
        else:
            assert answer.status_code == 422, sid
            assert answer.json()["code"] in {f"invalid_{field}", "invalid_request"}, (sid, answer.json())
