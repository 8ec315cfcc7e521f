"""A large district's table counts are kept a few seconds per web process; small ones never are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from admin import kept_counts
from admin.kept_counts import KEEP_FROM_RECORDS, KEEP_SECONDS, keep_counts

LARGE = {"held": 200, "suggested": 500, "no_id": 6000, "waiting": 3300, "needs_person": 6700, "all": 10000}
SMALL = {**LARGE, "all": KEEP_FROM_RECORDS - 1}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(kept_counts.time, "monotonic", clock)
    monkeypatch.setattr(kept_counts, "_kept", {})
    yield clock


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/kept")  # never connected
    with Session(engine) as session:
        yield session


def test_a_large_districts_counts_are_kept_and_say_their_age(clock: Clock, session: Session) -> None:
    keep_counts(session, "17001", LARGE)
    clock.now += 3
    kept = kept_counts.kept_counts(session, "17001")
    assert kept is not None
    assert (kept.counts, kept.age_seconds()) == (LARGE, 3)


def test_kept_counts_expire(clock: Clock, session: Session) -> None:
    keep_counts(session, "17001", LARGE)
    clock.now += KEEP_SECONDS + 0.1
    assert kept_counts.kept_counts(session, "17001") is None


def test_a_small_districts_counts_are_never_kept(clock: Clock, session: Session) -> None:
    keep_counts(session, "17001", SMALL)
    assert kept_counts.kept_counts(session, "17001") is None


def test_counts_are_kept_per_district(clock: Clock, session: Session) -> None:
    keep_counts(session, "27010", LARGE)
    assert kept_counts.kept_counts(session, "17001") is None
    assert kept_counts.kept_counts(session, "27010") is not None
