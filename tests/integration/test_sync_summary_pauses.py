"""The sync summary on Link Student to ALE says whether the district's sync is paused, and when a
pause is coming, in the district's own time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.app import app
from admin.caller import Caller
from admin.sync_summary import sync_summary
from models import PauseAction, PauseKind, StaffRole, SyncPause
from models.db import get_engine
from tests.admin_support import HOME, TestClient, World
from tests.integration.test_admin_pages import log_in


def _engine() -> Engine:
    return get_engine()


def add_pause(
    action: PauseAction, starts: datetime, ends: datetime, kind: PauseKind = PauseKind.SUMMER
) -> None:
    with Session(_engine()) as session, session.begin():
        session.add(
            SyncPause(
                district_id=HOME,
                kind=kind,
                action=action,
                starts_local=starts,
                ends_local=ends,
                note="Summer break",
            )
        )


def summary_at(world: World, now: datetime) -> dict[str, object]:
    caller = Caller(world.staff_ids["registrar"], HOME, StaffRole.REGISTRAR, "Rita Registrar")
    with Session(_engine()) as session:
        pause = sync_summary(session, caller, now).pause
    return {} if pause is None else vars(pause)


def test_the_summary_shows_a_pause_from_its_first_instant_to_its_last_in_the_district_zone(
    world: World,
) -> None:
    add_pause(PauseAction.SKIP, datetime(2026, 6, 20), datetime(2026, 8, 26))
    starts, ends = datetime(2026, 6, 20, 7, tzinfo=UTC), datetime(2026, 8, 26, 7, tzinfo=UTC)  # PDT midnights

    announced = summary_at(world, starts - timedelta(days=3))
    paused = summary_at(world, starts)
    last_moment = summary_at(world, ends - timedelta(seconds=1))

    assert (announced["in_force"], paused["in_force"], last_moment["in_force"]) == (False, True, True)
    assert summary_at(world, ends) == {}
    assert summary_at(world, starts - timedelta(days=15)) == {}  # too far off to announce yet
    assert (paused["through"].isoformat(), paused["ends_at"].isoformat()) == (
        "2026-08-25",
        "2026-08-26T00:00:00-07:00",
    )


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as pages:
        yield pages


def test_staff_see_a_pause_in_force_on_the_page_and_in_the_api_but_not_another_district_s(
    client: TestClient, browser: TestClient, world: World
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    add_pause(PauseAction.HOLD, now - timedelta(days=2), now + timedelta(days=30))

    api = client.get("/api/sync-summary", headers=world.auth("registrar")).json()
    log_in(browser, world.tokens["registrar"])
    page = browser.get("/link").text
    elsewhere = client.get("/api/sync-summary", headers=world.auth("elsewhere")).json()

    assert (api["pause"]["in_force"], api["pause"]["action"], api["pause"]["note"]) == (
        True,
        "hold",
        "Summer break",
    )
    assert "Sync paused" in page and "kept for your operations team to review" in page
    assert elsewhere["pause"] is None
