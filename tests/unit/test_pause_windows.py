"""A pause window in the district's zone: where it starts and ends, across daylight-saving edges,
and what a pause in force means for a pull."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.pause import PAUSE_HOLD_REASON, PauseAction, PauseKind, PauseState, PauseWindow
from worker.pauses import PauseRefused, window_bound

PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")
SECOND = timedelta(seconds=1)


def window(
    starts: str, ends: str, zone: ZoneInfo = PACIFIC, action: PauseAction = PauseAction.SKIP
) -> PauseWindow:
    return PauseWindow(
        1,
        "17001",
        PauseKind.BLACKOUT,
        action,
        datetime.fromisoformat(starts),
        datetime.fromisoformat(ends),
        zone,
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("pause", "first_instant", "end_instant"),
    [
        # a summer pause in Washington: midnight PDT is 07:00 UTC at both ends
        (window("2026-06-20T00:00", "2026-08-26T00:00"), "2026-06-20T07:00", "2026-08-26T07:00"),
        # the same dates in a district on Eastern time start and end three hours earlier
        (window("2026-06-20T00:00", "2026-08-26T00:00", EASTERN), "2026-06-20T04:00", "2026-08-26T04:00"),
        # a winter break that spans the spring-forward night: starts at PST midnight, ends at PDT midnight
        (window("2026-03-07T00:00", "2026-03-09T00:00"), "2026-03-07T08:00", "2026-03-09T07:00"),
        # from 02:30 on the spring-forward day, a time the clocks skip: it starts as they jump (03:30 PDT)
        (window("2026-03-08T02:30", "2026-03-08T06:00"), "2026-03-08T10:30", "2026-03-08T13:00"),
        # a pause ending at 01:30 on the fall-back night, a time shown twice: it ends at the first (PDT)
        (window("2026-10-31T22:00", "2026-11-01T01:30"), "2026-11-01T05:00", "2026-11-01T08:30"),
        # a pause through the fall-back day ends at PST midnight, 25 hours after it began
        (window("2026-11-01T00:00", "2026-11-02T00:00"), "2026-11-01T07:00", "2026-11-02T08:00"),
    ],
)
def test_a_pause_is_in_force_from_its_first_instant_until_just_before_its_end(
    pause: PauseWindow, first_instant: str, end_instant: str
) -> None:
    start, end = utc(first_instant), utc(end_instant)
    assert (pause.starts_at, pause.ends_at) == (start, end)
    assert [pause.in_force(t) for t in (start - SECOND, start, end - SECOND, end)] == [
        False,
        True,
        True,
        False,
    ]


def test_the_second_pass_of_the_repeated_hour_is_after_a_pause_ending_in_the_first() -> None:
    pause = window("2026-10-31T22:00", "2026-11-01T01:30")
    second_one_oclock = utc("2026-11-01T09:00")  # 01:00 PST: the wall clock reads before 01:30 again
    assert second_one_oclock.astimezone(PACIFIC).strftime("%H:%M %Z") == "01:00 PST"
    assert not pause.in_force(second_one_oclock)


@pytest.mark.parametrize(
    ("text", "end", "bound"),
    [
        ("2026-06-20", False, "2026-06-20T00:00"),  # a date as a start: its midnight
        ("2026-08-25", True, "2026-08-26T00:00"),  # a date as an end: through that whole day
        ("2026-06-20T18:00", True, "2026-06-20T18:00"),  # a date and time: that minute, start or end
        ("2026-06-20T18:00:42", False, "2026-06-20T18:00"),  # seconds are dropped
    ],
)
def test_a_window_bound_reads_a_date_or_a_local_date_and_time(text: str, end: bool, bound: str) -> None:
    assert window_bound(text, end=end) == datetime.fromisoformat(bound)


@pytest.mark.parametrize("text", ["June 20", "2026-13-01", "2026-06-20T18:00+02:00", ""])
def test_a_window_bound_that_is_not_a_local_date_is_refused_saying_so(text: str) -> None:
    with pytest.raises(PauseRefused, match=r"2026-06-20|offset"):
        window_bound(text, end=False)


HOLD = window("2026-06-20T00:00", "2026-08-26T00:00", action=PauseAction.HOLD)
SKIP = window("2026-06-20T00:00", "2026-08-26T00:00")


@pytest.mark.parametrize(
    ("state", "skips", "hold_reason"),
    [
        (PauseState(None, None, 0), False, None),  # no pause: pull and apply as usual
        (PauseState(SKIP, None, 0), True, None),  # a skip pause in force: the sources stay unread
        (PauseState(HOLD, None, 0), False, PAUSE_HOLD_REASON),  # a hold pause in force: read, hold
        # the hold window is over but its deliveries wait for ops: later ones wait behind them
        (PauseState(None, None, 2), False, PAUSE_HOLD_REASON),
        (PauseState(None, SKIP, 0), False, None),  # a pause still to come changes nothing yet
    ],
)
def test_what_a_pause_does_to_a_pull(state: PauseState, skips: bool, hold_reason: str | None) -> None:
    assert (state.skips_pulls, state.hold_reason) == (skips, hold_reason)
