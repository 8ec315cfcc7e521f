"""The cycle collector is paused for a piece of work and comes back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from config.collector import collector_paused


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_is_off_during_the_work_and_on_after() -> None:
    gc.enable()
    held_before = [object() for _ in range(10)]
    with collector_paused():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0  # what the process held before is out of its sight
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert held_before


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_comes_back_when_the_work_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the work failed")
    assert gc.isenabled() and gc.get_freeze_count() == 0
