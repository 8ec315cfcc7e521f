"""Write a validated batch: schools and district name, deactivations, updates, inserts, quarantine.

One statement per step over the working tables (workspace.py); unchanged rows are never touched, SIS records
are never deleted (only made inactive), and learning plans are not read or written here.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.copy_in import staged_columns
from worker.ingest.first_load import insert_as_partition, statistics_table
from worker.ingest.rows import UNCHANGED, VALID_ACTIVE
from worker.ingest.stage import StagedDelivery
from worker.ingest.steps import at_step
from worker.sql import compose

# orgs.csv names a district only until ops name it: a provisioned district keeps the name it was given
DISTRICT_NAME = """
UPDATE districts SET name = :name WHERE id = :district AND name = id AND name IS DISTINCT FROM :name"""

SCHOOLS = """
INSERT INTO schools (district_id, sis_source_id, name, org_type)
SELECT DISTINCT ON (sid) :district, sid, name, org_type FROM delivered_orgs
WHERE org_type <> 'district' AND sid <> ALL(CAST(:other_orgs AS text[])) ORDER BY sid
ON CONFLICT (district_id, sis_source_id) DO UPDATE
  SET name = excluded.name, org_type = excluded.org_type
  WHERE (schools.name, schools.org_type) IS DISTINCT FROM (excluded.name, excluded.org_type)"""

DEACTIVATE = """
UPDATE students SET status = 'inactive', last_batch_id = :batch, updated_at = now()
WHERE district_id = :district AND id IN (SELECT id FROM to_deactivate)"""

# an SSID can move between two records in one batch; the unique index is checked per row,
# so records giving up their SSID let go of it first
RELEASE_SSIDS = compose(
    """
UPDATE students s SET ssid = NULL
FROM ingest_rows r
WHERE s.district_id = :district AND s.id = r.existing_id AND {valid_active} AND NOT ({unchanged})
  AND r.existing_ssid IS NOT NULL AND r.ssid IS DISTINCT FROM r.existing_ssid""",
    valid_active=VALID_ACTIVE,
    unchanged=UNCHANGED,
)

UPDATE = compose(
    """
UPDATE students s SET status = 'active', ssid = r.ssid, other_id = r.other_id, first_name = r.given,
  middle_name = r.middle, last_name = r.family, search_last = r.search_last,
  search_first = r.search_first, grade = r.grade, school_id = r.school,
  birth_date = CASE WHEN r.birth_sent THEN b.birth_date ELSE s.birth_date END, row_hash = r.row_hash,
  last_batch_id = :batch, updated_at = now()
FROM ingest_rows r LEFT JOIN birth_dates b ON b.birth_text = r.birth_text
WHERE s.district_id = :district AND s.id = r.existing_id AND {valid_active} AND NOT ({unchanged})""",
    valid_active=VALID_ACTIVE,
    unchanged=UNCHANGED,
)

INSERTED_COLUMNS = """district_id, origin, status, sis_source_id, ssid, other_id, first_name,
  middle_name, last_name, search_last, search_first, birth_date, grade, school_id, row_hash, last_batch_id"""

INSERTED = compose(
    """
SELECT :district, 'sis', 'active', r.sid, r.ssid, r.other_id, r.given, r.middle, r.family,
  r.search_last, r.search_first, b.birth_date,
  r.grade, r.school, r.row_hash, :batch
FROM ingest_rows r LEFT JOIN birth_dates b ON b.birth_text = r.birth_text
WHERE {valid_active} AND r.existing_id IS NULL""",
    valid_active=VALID_ACTIVE,
)

INSERT = compose("INSERT INTO students ({columns}){select}", columns=INSERTED_COLUMNS, select=INSERTED)

QUARANTINE = """
INSERT INTO quarantined_rows (batch_id, district_id, file_name, row_number, reason_code, detail,
  sis_source_id, raw)
SELECT :batch, :district, :file_name, r.row_number, r.reason, r.detail, nullif(r.sid, ''),
  jsonb_object(CAST(:names AS text[]), ARRAY[{cells}])
FROM ingest_rows r JOIN stage_users u ON u.n = r.row_number - 1
WHERE r.reason IS NOT NULL"""

CLEAR_QUARANTINE = "DELETE FROM quarantined_rows WHERE batch_id = :batch"


def apply_batch(
    session: Session, district_id: str, batch_id: int, staged: StagedDelivery, counts: dict[str, int]
) -> None:
    """Each write runs only when the counts say it has rows to write (each would scan the batch)."""
    params = {"district": district_id, "batch": batch_id}
    at_step("writing the district's name and schools")
    if staged.district_name:
        session.execute(text(DISTRICT_NAME), {"district": district_id, "name": staged.district_name})
    session.execute(text(SCHOOLS), {**params, "other_orgs": staged.other_districts_orgs})
    if counts["deactivated"]:
        at_step("deactivating SIS records")
        session.execute(text(DEACTIVATE), params)
    if counts["updated"]:
        at_step("updating SIS records")
        session.execute(text(RELEASE_SSIDS), params)
        session.execute(text(UPDATE), params)
    at_step("inserting new SIS records")
    if counts["inserted"] and not insert_as_partition(
        session,
        district_id,
        new_records=counts["inserted"],
        columns=INSERTED_COLUMNS,
        select=INSERTED,
        params=params,
    ):
        session.execute(text(INSERT), params)
    write_quarantine(session, district_id, batch_id, staged, any_rows=counts["quarantined"] > 0)


# the columns queries filter or join on (the others' statistics change nothing in a plan)
ANALYZE = """
ANALYZE {table} (district_id, origin, status, sis_source_id, ssid, other_id, search_last, search_first,
  created_at, had_learning_plan)"""

BELIEVED_ROWS = "SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"


def refresh_statistics(session: Session, district_id: str, counts: dict[str, int]) -> None:
    """After a batch that changed a tenth of what the planner believes the district's partition
    holds, refresh its statistics (the next batch and the match pass would otherwise plan for the
    old, smaller table). Queries name their district, so they are planned on its partition."""
    changed = counts["inserted"] + counts["updated"] + counts["deactivated"]
    table = statistics_table(session, district_id)
    believed = session.execute(text(BELIEVED_ROWS), {"table": table}).scalar_one()
    if changed > 1_000 and changed > 0.1 * max(float(believed), 0.0):
        session.execute(text(compose(ANALYZE, table=table)))


def write_quarantine(
    session: Session, district_id: str, batch_id: int, staged: StagedDelivery, any_rows: bool = True
) -> None:
    """Each bad row as sent (column name -> value), with its row number and reason; replaces earlier ones."""
    at_step("writing the quarantined rows")
    session.execute(text(CLEAR_QUARANTINE), {"batch": batch_id})
    if not any_rows:
        return
    cells = staged_columns(len(staged.header), alias="u")
    session.execute(
        text(compose(QUARANTINE, cells=cells)),
        {"batch": batch_id, "district": district_id, "file_name": staged.users_file, "names": staged.header},
    )
