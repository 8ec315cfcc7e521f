"""Smallest districts first: every task of a district is queued at a priority step by its size.

kombu's Redis transport keeps one list per priority step (0, 3, 6, 9) under the one queue and a
worker always takes from the lowest step that holds a message, so a small district's pull,
ingest and match run before anything a larger district has waiting. A large district's task
already running keeps its slot until it ends, so a small district waits for at most one task of
it per slot, never for its queue. One queue with steps was chosen over a queue per district
(workers would have to be told of each new district, and the Redis transport polls every queue
it serves) and over routing large districts to a queue of their own (a slot kept for them
idles when they have nothing, and two Procfile lines must be sized by hand).
"""

from __future__ import annotations

from sqlalchemy import text

from models.db import transaction
from models.student import partition_name

# (fewer students than, step); larger districts get LARGEST
SIZE_STEPS = ((2_000, 0), (10_000, 3), (40_000, 6))
LARGEST = 9

# a district with a partition of its own (a first load of 10,000 or more): the planner's estimate
# of it, read at no cost; any other district's records are few enough to count in students_default
_SIZE = """
SELECT CASE WHEN to_regclass(:name) IS NOT NULL
  THEN (SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name))
  ELSE (SELECT count(*) FROM students WHERE district_id = :d) END"""


def step_for(students: float) -> int:
    for below, step in SIZE_STEPS:
        if students < below:
            return step
    return LARGEST


def district_priority(district_id: str) -> int:
    """The priority step of the district's tasks (0 first), from the size of its records."""
    with transaction() as session:
        size = session.execute(
            text(_SIZE), {"name": partition_name(district_id), "d": district_id}
        ).scalar_one()
    return step_for(max(float(size or 0), 0.0))
