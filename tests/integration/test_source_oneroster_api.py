"""A OneRoster REST source read from a real server (the test peer, its own process) with each fault
a real server shows injected: what the pull registers, and what the ingest then applies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, QuarantinedRow, SourceState, Student, StudentStatus
from models.db import transaction
from tests.fixtures.rosters.bundles import configure_sources
from tests.peers.oneroster_peer import CLIENT_ID, CLIENT_SECRET, sourced_id, ssid
from tests.peers.running import peer_process
from worker.ingest import ingest_batch
from worker.pull import pull_sources
from worker.sources.state import request_full_reads

DISTRICT = "17001"
STUDENTS = 40
SECRET_ENV = "ALE_TEST_PEER_SECRET"


@pytest.fixture(scope="module")
def peer_port() -> Iterator[int]:
    with peer_process("tests.peers.oneroster_peer", "--students", str(STUDENTS)) as (_, port):
        yield port


@pytest.fixture
def peer(peer_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    control = Peer(peer_port)
    control.post("reset", {"students": STUDENTS})
    yield control
    monkeypatch.undo()
    get_settings.cache_clear()


class Peer:
    """The test's handle on the peer: configure a source for it, inject faults, change its data."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def post(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/_peer/{what}", content=json.dumps(body), timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def faults(self, **spec: Any) -> None:
        self.post("faults", spec)

    def requests(self) -> list[str]:
        return list(self.post("requests", {})["requests"])

    def source(self, monkeypatch: pytest.MonkeyPatch, version: str = "1.2", **api: Any) -> SourceConfig:
        path = "/ims/oneroster/rostering/v1p2" if version == "1.2" else "/ims/oneroster/v1p1"
        settings = {
            "base_url": self.url + path,
            "version": version,
            "token_url": f"{self.url}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": {"env": SECRET_ENV},
            "page_size": 10,
            "timeout_seconds": 5,
            "retry_backoff_seconds": 0.01,
            **api,
        }
        source = SourceConfig(district=DISTRICT, name="sis-api", kind="oneroster-api", api=settings)
        configure_sources(monkeypatch, source)
        return source


def pull_and_ingest(engine: Engine) -> list[Any]:
    return [ingest_batch(engine, batch_id) for batch_id in pull_sources(engine, DISTRICT)]


def students(engine: Engine) -> dict[str, Student]:
    with transaction(engine) as session:
        rows = session.scalars(
            select(Student).where(Student.district_id == DISTRICT, Student.origin == "sis")
        )
        return {s.sis_source_id: s for s in rows if s.sis_source_id}


def batches(engine: Engine) -> list[Batch]:
    with transaction(engine) as session:
        return list(session.scalars(select(Batch).where(Batch.district_id == DISTRICT).order_by(Batch.id)))


def state(engine: Engine) -> SourceState | None:
    with transaction(engine) as session:
        return session.get(SourceState, (DISTRICT, "sis-api"))


def test_a_first_read_is_a_bulk_read_whose_students_land_with_ssid_school_and_birth_date(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch)

    (result,) = pull_and_ingest(committed_engine)

    assert result.status == BatchStatus.APPLIED
    assert result.counts["inserted"] == STUDENTS
    record = students(committed_engine)[sourced_id(3)]
    assert (record.ssid, record.other_id, record.school_id) == (ssid(3), "100003", "sch-3")
    assert record.birth_date is not None and record.birth_date.isoformat() == "2011-04-04"
    (batch,) = batches(committed_engine)
    assert batch.provenance is not None
    assert batch.provenance["read"] == "bulk"
    assert batch.provenance["collections"]["students"] == {
        "pages": 4, "records": STUDENTS, "malformed": 0, "server_total": STUDENTS,
    }  # fmt: skip
    assert batch.location == batch.archive_path
    assert state(committed_engine).watermark.isoformat() == "2026-11-01T00:00:00+00:00"


def test_a_1_1_server_is_read_the_same_way(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch, version="1.1")

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS
    assert students(committed_engine)[sourced_id(5)].school_id == "sch-5"
    assert all("/ims/oneroster/v1p1/" in r for r in peer.requests())


def test_after_a_bulk_the_next_read_is_a_delta_from_the_watermark_with_overlap_and_tobedeleted_rows(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch, delta_overlap_seconds=600)
    pull_and_ingest(committed_engine)
    later = "2026-11-02T08:00:00.000Z"
    peer.post("change", {
        "at": later,
        "users": {sourced_id(1): {"givenName": "Renamed"}, sourced_id(2): {"status": "tobedeleted"}},
        "demographics": {sourced_id(4): {"birthDate": "2012-12-12"}},
    })  # fmt: skip

    (result,) = pull_and_ingest(committed_engine)

    # the watermark 2026-11-01T00:00:00Z less ten minutes of overlap
    assert any("dateLastModified%3E%272026-10-31T23%3A50%3A00Z%27" in r for r in peer.requests())
    assert result.status == BatchStatus.APPLIED
    # the overlap brings back the students stamped at the old watermark: sent again, unchanged
    assert (result.counts["updated"], result.counts["deactivated"], result.counts["unchanged"]) == (2, 1, 37)
    stored = students(committed_engine)
    assert stored[sourced_id(1)].first_name == "Renamed"
    assert stored[sourced_id(2)].status == StudentStatus.INACTIVE
    assert stored[sourced_id(4)].birth_date.isoformat() == "2012-12-12"
    assert len(stored) == STUDENTS and sum(s.status == StudentStatus.ACTIVE for s in stored.values()) == 39
    assert state(committed_engine).watermark.isoformat() == "2026-11-02T08:00:00+00:00"


def test_a_delta_carries_the_student_whose_birth_date_alone_changed(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch, delta_overlap_seconds=0)
    pull_and_ingest(committed_engine)
    peer.post(
        "change",
        {"at": "2026-11-02T08:00:00.000Z", "demographics": {sourced_id(4): {"birthDate": "2012-12-12"}}},
    )

    (result,) = pull_and_ingest(committed_engine)

    assert (result.counts["updated"], result.counts["unchanged"]) == (1, 0)
    assert students(committed_engine)[sourced_id(4)].birth_date.isoformat() == "2012-12-12"
    assert batches(committed_engine)[-1].provenance["fetched_one_by_one"] == 1


def test_the_watermark_moves_only_when_the_batch_is_applied(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch)
    pull_and_ingest(committed_engine)
    peer.post("change", {"at": "2026-11-03T00:00:00.000Z", "users": {sourced_id(1): {"givenName": "Later"}}})

    (waiting,) = pull_sources(committed_engine, DISTRICT)
    assert state(committed_engine).watermark.isoformat() == "2026-11-01T00:00:00+00:00"
    # while the batch waits, another pull does not read again
    assert pull_sources(committed_engine, DISTRICT) == []
    ingest_batch(committed_engine, waiting)

    assert state(committed_engine).watermark.isoformat() == "2026-11-03T00:00:00+00:00"
    assert state(committed_engine).watermark_batch_id == waiting


def test_a_delta_with_nothing_changed_registers_no_batch(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch, delta_overlap_seconds=0)
    pull_and_ingest(committed_engine)

    assert pull_sources(committed_engine, DISTRICT) == []
    assert len(batches(committed_engine)) == 1


def test_resync_full_makes_the_next_read_a_bulk_read(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch, delta_overlap_seconds=0)
    pull_and_ingest(committed_engine)
    peer.post("change", {"at": "2026-11-03T00:00:00.000Z", "users": {sourced_id(1): {"givenName": "Later"}}})

    assert request_full_reads(committed_engine, [DISTRICT]) == [f"{DISTRICT}/sis-api"]
    (result,) = pull_and_ingest(committed_engine)

    assert batches(committed_engine)[-1].provenance["read"] == "bulk"
    assert result.counts["unchanged"] == STUDENTS - 1 and result.counts["updated"] == 1
    assert state(committed_engine).full_read_requested is False


def test_a_token_that_expires_mid_read_is_renewed_and_the_read_goes_on(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch)
    peer.faults(token_requests=2)  # every token serves two requests, then the server answers 401

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS
    assert batches(committed_engine)[0].provenance["tokens"] >= 4


@pytest.mark.parametrize(
    "retry_after",
    [
        "1",  # seconds
        "Thu, 01 Jan 2015 00:00:00 GMT",  # an HTTP date (here already past: retry at once)
    ],
)
@pytest.mark.parametrize("code", [429, 503])
def test_429_and_503_are_retried_after_the_wait_the_server_asks(
    committed_engine, peer, monkeypatch, code, retry_after
):
    peer.source(monkeypatch)
    peer.faults(
        rules=[{"kind": "status", "code": code, "retry_after": retry_after, "offset": 10, "times": 2}]
    )

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS
    offsets = [r for r in peer.requests() if "/students?" in r and "offset=10&" in r + "&"]
    assert len(offsets) == 3  # twice refused, then served
    assert batches(committed_engine)[0].provenance["retries"] == 2


def test_a_server_asking_for_a_longer_wait_than_allowed_ends_the_pull_with_nothing_registered(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch, max_retry_after_seconds=5)
    peer.faults(rules=[{"kind": "status", "code": 503, "retry_after": "3600", "page": 1}])

    assert pull_sources(committed_engine, DISTRICT) == []
    assert batches(committed_engine) == []
    assert "asks to wait 3600 s" in state(committed_engine).last_error


def test_timeouts_and_reset_connections_are_retried_with_backoff(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch, timeout_seconds=0.5)
    peer.faults(rules=[
        {"kind": "delay", "seconds": 2, "offset": 10, "times": 1},
        {"kind": "reset", "offset": 30, "times": 2},
        {"kind": "reset", "collection": "demographics", "offset": 0, "times": 1},
    ])  # fmt: skip

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS
    assert batches(committed_engine)[0].provenance["retries"] == 4


def test_retries_are_bounded_and_a_server_that_keeps_failing_registers_nothing(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch, max_attempts=3)
    peer.faults(rules=[{"kind": "status", "code": 502, "page": 2, "times": 100, "every": True}])

    assert pull_sources(committed_engine, DISTRICT) == []
    assert batches(committed_engine) == []
    error = state(committed_engine).last_error
    assert "failed 3 times in a row (last: HTTP 502)" in error


def test_a_student_added_before_the_read_offset_mid_read_is_seen_and_the_read_is_done_again(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch)
    # once page 2 is served, a new student is listed first: page 3 repeats a student already read
    peer.faults(rules=[{"kind": "new_at_front", "page": 2, "times": 1}])

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS + 1
    assert batches(committed_engine)[0].provenance["attempts"] == 2


def test_a_student_seen_twice_is_caught_by_ids_when_the_server_sends_no_total(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch)
    peer.faults(total=False, rules=[{"kind": "new_at_front", "page": 2, "times": 1}])

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS + 1 and result.counts["quarantined"] == 0
    assert batches(committed_engine)[0].provenance["attempts"] == 2


def test_a_malformed_record_and_a_record_missing_a_required_field_are_quarantined_not_the_batch(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch)
    peer.faults(malformed=[sourced_id(6)], missing={sourced_id(7): "givenName"})

    (result,) = pull_and_ingest(committed_engine)

    assert result.status == BatchStatus.APPLIED
    assert result.counts["inserted"] == STUDENTS - 2 and result.counts["quarantined"] == 2
    with transaction(committed_engine) as session:
        rows = session.scalars(select(QuarantinedRow).where(QuarantinedRow.batch_id == result.batch_id))
        found = {(q.sis_source_id, q.reason_code) for q in rows}
    assert found == {(sourced_id(6), "malformed_record"), (sourced_id(7), "missing_required")}


def test_fewer_records_than_x_total_count_promised_is_refused_as_incomplete_and_never_applied(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch, read_attempts=2)
    pull_and_ingest(committed_engine)
    peer.post("change", {"at": "2026-11-03T00:00:00.000Z", "users": {sourced_id(1): {"givenName": "Later"}}})
    request_full_reads(committed_engine, [DISTRICT])
    peer.faults(drop=5)  # every read leaves out five students X-Total-Count still counts

    assert pull_sources(committed_engine, DISTRICT) == []

    refused = batches(committed_engine)[-1]
    assert refused.status == BatchStatus.REJECTED
    assert refused.reject_reason == "incomplete read: /students gave 35 of the 40 records promised"
    assert state(committed_engine).last_error == f"{refused.reject_reason} (batch {refused.id}, rejected)"
    assert refused.provenance["attempts"] == 2
    stored = students(committed_engine)
    assert all(s.status == StudentStatus.ACTIVE for s in stored.values())  # nobody deactivated
    assert stored[sourced_id(1)].first_name != "Later"


def test_a_server_that_caps_the_page_size_and_sends_link_headers_is_read_whole(
    committed_engine, peer, monkeypatch
):
    peer.source(monkeypatch, page_size=500)
    peer.faults(cap_limit=7, link=True)

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS
    assert batches(committed_engine)[0].provenance["collections"]["students"]["pages"] == 6


def test_a_server_without_total_or_links_is_read_until_an_empty_page(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch)
    peer.faults(total=False, cap_limit=7)

    (result,) = pull_and_ingest(committed_engine)

    assert result.counts["inserted"] == STUDENTS


def test_wrong_client_credentials_are_reported_without_the_secret(committed_engine, peer, monkeypatch):
    peer.source(monkeypatch)
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")

    assert pull_sources(committed_engine, DISTRICT) == []
    error = state(committed_engine).last_error
    assert error == "the token endpoint refused the client credentials (HTTP 401)"
