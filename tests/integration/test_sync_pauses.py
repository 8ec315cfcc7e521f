"""Pauses decide what a pull does, at an explicit moment, in the district's time zone: a skip pause
leaves the sources unread until the window ends, a hold pause holds what arrives for ops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config.settings import SourceConfig
from models import Batch, BatchStatus, District, PauseAction, PauseKind, Student
from models.db import transaction
from models.pause import PAUSE_HOLD_REASON
from tests.fixtures.rosters.bundles import configure_sources, students, write_oneroster
from worker.ingest import BatchNotHeld, approve_batch, ingest_batch
from worker.pauses import NewPause, PauseRefused, add_pause, pause_rows, remove_pause, window_bound
from worker.pull import pull_sources

DISTRICT = "17099"
SECOND = timedelta(seconds=1)
# the summer pause below, 2026-06-20 00:00 through 2026-08-25 in Pacific time, as UTC instants
SUMMER_STARTS = datetime(2026, 6, 20, 7, tzinfo=UTC)
SUMMER_ENDS = datetime(2026, 8, 26, 7, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("settings_restored")


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed_engine: Engine) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    configure_sources(monkeypatch, SourceConfig(district=DISTRICT, name="nightly", inbox=folder))
    return folder


def pause(engine: Engine, action: PauseAction, starts: str = "2026-06-20", until: str = "2026-08-25") -> int:
    with transaction(engine) as session:
        window = add_pause(
            session,
            NewPause(
                DISTRICT,
                PauseKind.SUMMER,
                action,
                window_bound(starts, end=False),
                window_bound(until, end=True),
            ),
        )
    return window.pause_id


def deliver(inbox: Path, name: str, count: int = 5) -> None:
    write_oneroster(inbox / name, students(count), district=DISTRICT)


def statuses(engine: Engine) -> list[tuple[str, str | None]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Batch.status, Batch.hold_reason).where(Batch.district_id == DISTRICT).order_by(Batch.id)
        )
        return [(str(s), r) for s, r in rows]


def test_a_skip_pause_leaves_the_inbox_unread_until_the_instant_it_ends(committed_engine, inbox):
    pause(committed_engine, PauseAction.SKIP)
    deliver(inbox, "2026-06-19")

    assert pull_sources(committed_engine, DISTRICT, SUMMER_STARTS) == []
    assert pull_sources(committed_engine, DISTRICT, SUMMER_ENDS - SECOND) == []
    assert statuses(committed_engine) == []

    (batch_id,) = pull_sources(committed_engine, DISTRICT, SUMMER_ENDS)
    assert str(ingest_batch(committed_engine, batch_id).status) == "applied"


def test_a_pull_just_before_a_skip_pause_begins_still_reads(committed_engine, inbox):
    pause(committed_engine, PauseAction.SKIP)
    deliver(inbox, "2026-06-19")

    assert len(pull_sources(committed_engine, DISTRICT, SUMMER_STARTS - SECOND)) == 1


def test_a_hold_pause_registers_deliveries_held_and_applies_nothing(committed_engine, inbox):
    pause(committed_engine, PauseAction.HOLD)
    deliver(inbox, "2026-07-01")

    (batch_id,) = pull_sources(committed_engine, DISTRICT, SUMMER_STARTS)

    assert statuses(committed_engine) == [("held", PAUSE_HOLD_REASON)]
    assert str(ingest_batch(committed_engine, batch_id).status) == "held"
    with transaction(committed_engine) as session:
        assert session.scalars(select(Student.id).where(Student.district_id == DISTRICT)).all() == []


def test_after_a_hold_pause_later_deliveries_wait_behind_its_own_and_ops_approve_them_in_order(
    committed_engine, inbox
):
    pause(committed_engine, PauseAction.HOLD)
    deliver(inbox, "2026-07-01", 5)
    (during,) = pull_sources(committed_engine, DISTRICT, SUMMER_STARTS)
    deliver(inbox, "2026-08-27", 8)

    (after,) = pull_sources(committed_engine, DISTRICT, SUMMER_ENDS + timedelta(days=1))

    assert statuses(committed_engine) == [("held", PAUSE_HOLD_REASON), ("held", PAUSE_HOLD_REASON)]
    with pytest.raises(BatchNotHeld, match=f"batch {during}"):
        approve_batch(committed_engine, after, "ops")
    assert (str(approve_batch(committed_engine, during, "ops").status)) == "applied"
    assert (str(approve_batch(committed_engine, after, "ops").status)) == "applied"
    deliver(inbox, "2026-08-28", 8)
    assert statuses(pull_and_ingest(committed_engine, SUMMER_ENDS + timedelta(days=2)))[-1] == (
        "applied",
        None,
    )


def pull_and_ingest(engine: Engine, now: datetime) -> Engine:
    for batch_id in pull_sources(engine, DISTRICT, now):
        ingest_batch(engine, batch_id)
    return engine


def test_approving_a_paused_delivery_still_runs_the_deactivation_safety_check(committed_engine, inbox):
    deliver(inbox, "2026-06-01", 100)
    pull_and_ingest(committed_engine, SUMMER_STARTS - timedelta(days=1))
    pause(committed_engine, PauseAction.HOLD)
    deliver(inbox, "2026-07-01", 50)  # a bulk file without half the district
    (held,) = pull_sources(committed_engine, DISTRICT, SUMMER_STARTS)

    result = approve_batch(committed_engine, held, "ops")

    assert (str(result.status), result.reason is not None and "deactivat" in result.reason) == ("held", True)


def test_a_pause_follows_the_district_time_zone(committed_engine, inbox):
    pause(committed_engine, PauseAction.SKIP)
    deliver(inbox, "2026-06-19")
    eastern_midnight = datetime(2026, 6, 20, 4, tzinfo=UTC)  # 21:00 the day before in Pacific time

    assert len(pull_sources(committed_engine, DISTRICT, eastern_midnight)) == 1  # Pacific: not yet paused

    with transaction(committed_engine) as session:
        session.get_one(District, DISTRICT).timezone = "America/New_York"
    deliver(inbox, "2026-06-20")
    assert pull_sources(committed_engine, DISTRICT, eastern_midnight) == []  # Eastern: paused from now


def test_a_pause_can_be_set_for_a_configured_district_before_its_first_delivery(committed_engine, inbox):
    pause_id = pause(committed_engine, PauseAction.SKIP)
    with transaction(committed_engine) as session:
        assert session.get_one(District, DISTRICT).id == DISTRICT
        with pytest.raises(PauseRefused, match="no district 99999"):
            add_pause(session, NewPause("99999", PauseKind.BLACKOUT, PauseAction.SKIP, *window_rows()))
        with pytest.raises(PauseRefused, match="end after it starts"):
            add_pause(
                session, NewPause(DISTRICT, PauseKind.BLACKOUT, PauseAction.SKIP, *reversed(window_rows()))
            )
    assert pause_id > 0


def window_rows() -> tuple[datetime, datetime]:
    return datetime(2026, 1, 1), datetime(2026, 1, 2)


def test_pause_list_says_which_pause_is_in_force_upcoming_or_ended_in_local_time(committed_engine, inbox):
    ended = pause(committed_engine, PauseAction.SKIP, "2026-01-05", "2026-01-06")
    summer = pause(committed_engine, PauseAction.HOLD)
    in_july = datetime(2026, 7, 1, tzinfo=UTC)
    with transaction(committed_engine) as session:
        current = pause_rows(session, in_july, DISTRICT)
        everything = pause_rows(session, in_july, DISTRICT, ended=True)
    assert [(r["pause_id"], r["state"], r["starts_at"], r["ends_at"]) for r in current] == [
        (summer, "in force", "2026-06-20 00:00 PDT", "2026-08-26 00:00 PDT")
    ]
    assert [(r["pause_id"], r["state"], r["ends_at"]) for r in everything] == [
        (ended, "ended", "2026-01-07 00:00 PST"),
        (summer, "in force", "2026-08-26 00:00 PDT"),
    ]
    with transaction(committed_engine) as session:
        assert remove_pause(session, summer)["kind"] == "summer"
        with pytest.raises(PauseRefused, match=f"no pause {summer}"):
            remove_pause(session, summer)
        assert pause_rows(session, in_july, DISTRICT) == []


def test_removing_a_hold_pause_in_force_keeps_what_it_held_held_for_ops(committed_engine, inbox):
    pause_id = pause(committed_engine, PauseAction.HOLD)
    deliver(inbox, "2026-07-01")
    pull_sources(committed_engine, DISTRICT, SUMMER_STARTS)
    with transaction(committed_engine) as session:
        remove_pause(session, pause_id)
    deliver(inbox, "2026-07-02", 7)

    pull_sources(committed_engine, DISTRICT, SUMMER_STARTS + SECOND)

    assert [s for s, _ in statuses(committed_engine)] == [BatchStatus.HELD, BatchStatus.HELD]
