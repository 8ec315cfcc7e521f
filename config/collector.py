"""Python's cycle collector, paused around work that makes many objects with no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector runs after every few hundred new containers and walks the younger
    objects each time, and now and then all of them: while a piece of work makes hundreds of
    thousands of short-lived objects with no cycles (API pages, a district pass's records), it
    costs about as much as the work. It is paused for the work, with what the process held before
    frozen out of its sight (a `gc.collect()` run meanwhile walks only the new objects), and
    resumes after; reference counting frees everything without cycles all along."""
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
