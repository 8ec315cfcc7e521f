"""A district's first load: its records written into a partition of their own, indexes built after.

`students` is partitioned by district (migration 0006). A district that has no record yet and
no partition of its own gets its first SIS load written into a new table shaped like students,
which is then attached as the district's partition. Each index is built once over the rows
(with parallel workers) and the attach checks each foreign key with one query, instead of
nine indexes maintained and three keys checked for every row inserted: on a million students
this more than halves what the insert costs (docs/ingest.md, "A district's first load").

Everything happens inside the batch's transaction: a crash or a rejected batch takes the table
back with the rest. The attach scans `students_default` for the district's records and locks it
while it does; it waits at most LOCK_WAIT for that, and if it cannot have the lock, or a
record of the district reached the default partition meanwhile (a registrar creating one
during the load), the attempt is rolled back to its savepoint and the rows go in the usual way.
A database role that does not own `students` (it cannot attach) always takes the usual way.
"""

from __future__ import annotations

import re

import structlog
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.student import partition_name
from worker.sql import compose

logger = structlog.get_logger(__name__)

# below this many new records, building the indexes afresh saves nothing worth a new table
FIRST_LOAD_MIN = 10_000
LOCK_WAIT = "10s"

# whether this load may take the first-load path, and the names it needs, quoted for SQL
PROBE = """
SELECT to_regclass(format('%I.%I', n.nspname, CAST(:name AS text))) IS NULL AS free,
  pg_has_role(c.relowner, 'USAGE') AS owner,
  NOT EXISTS (SELECT 1 FROM students WHERE district_id = :district) AS empty,
  format('%I.%I', n.nspname, CAST(:name AS text)) AS target,
  quote_literal(CAST(:district AS text)) AS district_literal,
  quote_literal(pg_get_serial_sequence('students', 'id')) AS sequence_literal
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = CAST('students' AS regclass)"""

# a table shaped like students for the district's records only; the check lets the attach skip
# scanning the new rows for their district
CREATE_PARTITION = """
CREATE TABLE {table} (LIKE students INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED,
  CONSTRAINT first_load_district CHECK (district_id = {district}))"""
# ids from students' own sequence, as an insert into students would take them
INSERT_INTO_PARTITION = (
    "INSERT INTO {table} (id, {columns}) SELECT nextval({sequence}::regclass), * FROM ({select}) r"
)
ATTACH = "ALTER TABLE students ATTACH PARTITION {table} FOR VALUES IN ({district})"
DROP_CHECK = "ALTER TABLE {table} DROP CONSTRAINT first_load_district"
LOCK_TIMEOUT = "SELECT set_config('lock_timeout', :wait, true)"


def insert_as_partition(
    session: Session,
    district_id: str,
    *,
    new_records: int,
    columns: str,
    select: str,
    params: dict[str, object],
) -> bool:
    """Insert the district's first load (SELECT yields COLUMNS) as a partition of its own; False
    when this load must go in the usual way instead (nothing was written then)."""
    if new_records < FIRST_LOAD_MIN:
        return False
    partition = partition_name(district_id)
    probe = session.execute(text(PROBE), {"district": district_id, "name": partition}).one()
    if not (probe.free and probe.owner and probe.empty):
        return False
    names = {"table": probe.target, "district": probe.district_literal}
    insert = compose(
        INSERT_INTO_PARTITION, **names, columns=columns, select=select, sequence=probe.sequence_literal
    )
    try:
        with session.begin_nested():
            session.execute(text(compose(CREATE_PARTITION, **names)))
            session.execute(text(insert), params)
            session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            build_indexes(session, probe.target, partition)
            previous = session.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
            session.execute(text(LOCK_TIMEOUT), {"wait": LOCK_WAIT})
            session.execute(text(compose(ATTACH, **names)))
            session.execute(text(LOCK_TIMEOUT), {"wait": previous})
            session.execute(text(compose(DROP_CHECK, **names)))
    except DBAPIError as error:
        cause = error.orig
        if not isinstance(cause, pg_errors.LockNotAvailable | pg_errors.CheckViolation):
            raise
        logger.warning("ingest.first_load_fell_back", district_id=district_id, reason=type(cause).__name__)
        return False
    logger.info("ingest.first_load_partition", district_id=district_id, records=new_records)
    return True


# the indexes of students (partitioned indexes) and the key constraint each backs, if any
PARENT_INDEXES = """
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition,
  pg_get_constraintdef(k.oid) AS key
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u')
WHERE x.indrelid = CAST('students' AS regclass)
ORDER BY i.relname"""

INDEX_HEAD = re.compile(
    r"^(?P<create>CREATE (?:UNIQUE )?INDEX )\S+ ON ONLY \S+ (?P<method>USING .*)$", re.DOTALL
)
# the partition's copy of one index of students, under a name of its own
ADD_KEY = "ALTER TABLE {table} ADD CONSTRAINT {name} {key}"
CREATE_INDEX = "{create}{name} ON {table} {method}"


def build_indexes(session: Session, table: str, partition: str) -> None:
    """Build the new partition's copy of each index of students before attaching it: built here,
    each can use parallel workers, which the attach does not; the attach then adopts them
    (an index it finds no copy of, it builds itself)."""
    for index in session.execute(text(PARENT_INDEXES)).all():
        name = f"{partition}_{index.name.replace('students_', '', 1)}"[:63]
        if index.key:
            session.execute(text(compose(ADD_KEY, table=table, name=name, key=index.key)))
        elif head := INDEX_HEAD.match(index.definition):
            session.execute(text(compose(CREATE_INDEX, table=table, name=name, **head.groupdict())))


# the partition holding the district's records: its own, or the default one
DISTRICT_PARTITION = """
SELECT coalesce(to_regclass(format('%I.%I', n.nspname, CAST(:name AS text))),
  to_regclass(format('%I.students_default', n.nspname)))::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = CAST('students' AS regclass)"""


def statistics_table(session: Session, district_id: str) -> str:
    """The partition holding the district's records, quoted for SQL."""
    found = session.execute(text(DISTRICT_PARTITION), {"name": partition_name(district_id)}).scalar_one()
    return str(found)
