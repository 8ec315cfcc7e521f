"""When the SIS sent the record an id points at, against when staff typed the created record: a
given name that is another child's name of the district (rule 5) links only when the SIS sent the
record after it was typed and sent nobody carrying the names as typed. Real ingest, real pass,
each step in its own transaction as in production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from config.settings import SourceConfig
from matching.district_pass import match_district
from models import HoldRow, LinkAudit, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import student, write_oneroster
from tests.integration.test_match_support import created
from worker.ingest import ingest_batch
from worker.pull import register_delivery

DISTRICT = "17099"
SOURCE = SourceConfig(district=DISTRICT, name="test", inbox=Path("/nonexistent"))
JAMES_SSID = "5100000001"
# the district already carries Jimmy as a name of its own (another family's child)
ALREADY = [
    student("stu-jimmy-cole", ssid="5100000009", givenName="Jimmy", familyName="Cole"),
    student("stu-ana-lee", ssid="5100000008"),
]
JAMES = student("stu-james", ssid=JAMES_SSID, givenName="James", familyName="Nguyen")
TWIN_JIMMY = student("stu-jimmy", ssid="5100000002", givenName="Jimmy", familyName="Nguyen")


def send(engine: Engine, folder: Path, users: list[dict[str, str]]) -> None:
    """A bulk delivery through the real ingest, applied in its own transaction."""
    with transaction(engine) as session:
        batch_id = register_delivery(session, SOURCE, write_oneroster(folder, users))[0]
    assert ingest_batch(engine, batch_id).status == "applied"


def type_jimmy(engine: Engine) -> int:
    """Staff save "Jimmy Nguyen" with James Nguyen's SSID, in a transaction of their own."""
    with transaction(engine) as session:
        return created(session, DISTRICT, "Jimmy", "Nguyen", ssid=JAMES_SSID).id


def outcome(engine: Engine, created_id: int) -> tuple[str, str | None, str | None]:
    """After one district pass: the record's status, the SIS record it was linked to, its hold."""
    with transaction(engine) as session:
        match_district(session, DISTRICT)
    with transaction(engine) as session:
        record = session.get_one(Student, created_id)
        linked = session.scalar(
            select(LinkAudit.sis_record_id).where(LinkAudit.created_record_id == created_id)
        )
        source = session.scalar(select(Student.sis_source_id).where(Student.id == linked)) if linked else None
        hold = session.scalar(select(HoldRow.reason).where(HoldRow.created_record_id == created_id))
        return str(record.status), source, hold


def test_a_nickname_typed_before_the_sis_sent_the_child_links_when_the_record_arrives(
    committed_engine, tmp_path
):
    send(committed_engine, tmp_path / "1", ALREADY)
    jimmy = type_jimmy(committed_engine)

    send(committed_engine, tmp_path / "2", [*ALREADY, JAMES])

    assert outcome(committed_engine, jimmy) == ("merged", "stu-james", None)


def test_the_same_nickname_typed_onto_a_record_the_sis_already_had_is_held(committed_engine, tmp_path):
    send(committed_engine, tmp_path / "1", [*ALREADY, JAMES])
    jimmy = type_jimmy(committed_engine)

    assert outcome(committed_engine, jimmy) == ("active", None, "name_mismatch")


def test_a_twin_sent_in_the_same_batch_under_the_typed_names_keeps_it_held(committed_engine, tmp_path):
    send(committed_engine, tmp_path / "1", ALREADY)
    jimmy = type_jimmy(committed_engine)

    send(committed_engine, tmp_path / "2", [*ALREADY, JAMES, TWIN_JIMMY])

    assert outcome(committed_engine, jimmy) == ("active", None, "name_mismatch")
