"""Smallest districts first: every task of a district is queued at a priority step by its size.

kombu's Redis transport keeps one list per priority step under the one queue and a worker
always takes from the lowest step that holds a message, so a small district's pull, ingest and
match run before anything a larger district has waiting. A large district's task already
running keeps its slot until it ends, so a small district waits for at most one task of it per
slot, never for its queue. Within a size class, the work that follows a pull (the ingest of
what it found, the match after it) goes before other districts' pulls, so each district's
records link as soon as its own delivery is in rather than after every district's pull.

One queue with steps was chosen over a queue per district (workers would have to be told of
each new district, and the Redis transport polls every queue it serves) and over routing large
districts to a queue of their own (a slot kept for them idles when they have nothing, and two
Procfile lines must be sized by hand).
"""

from __future__ import annotations

from sqlalchemy import text

from models.db import transaction
from models.student import partition_name

# the size classes' upper bounds in students: class 0 below the first, class 3 from the last
SIZE_CLASSES = (2_000, 10_000, 40_000)
# every step a task can be queued at (the broker's `priority_steps`): 2 per size class
PRIORITY_STEPS = list(range(2 * len(SIZE_CLASSES) + 2))

# a district with a partition of its own (a first load of 10,000 or more): the planner's estimate
# of it, read at no cost; any other district's records are few enough to count in students_default
_SIZE = """
SELECT CASE WHEN to_regclass(:name) IS NOT NULL
  THEN (SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name))
  ELSE (SELECT count(*) FROM students WHERE district_id = :d) END"""


def size_class(students: float) -> int:
    return sum(1 for bound in SIZE_CLASSES if students >= bound)


def district_priority(district_id: str, *, pull: bool = False) -> int:
    """The step of a task of the district (0 taken first): its size class, a pull after the
    class's ingests and matches."""
    with transaction() as session:
        size = session.execute(
            text(_SIZE), {"name": partition_name(district_id), "d": district_id}
        ).scalar_one()
    return 2 * size_class(max(float(size or 0), 0.0)) + (1 if pull else 0)
