"""Set-wise rules over ingest_rows, run in order; each marks rows not yet quarantined.

Reason codes: duplicate_sourced_id (one sourcedId on several student rows), unknown_org (a
school that neither orgs.csv nor the district's known schools has), duplicate_ssid (two
rows claim one SSID, or an SSID another active SIS record of the district keeps).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.rows import UNCHANGED
from worker.ingest.workspace import create_work_table
from worker.sql import compose

# rows of ingest_rows no rule has quarantined yet
PENDING = "reason IS NULL AND is_student"

# one pass over the batch for what the rules below need to know. Repeats are found by counting
# distinct 64-bit hashes (a sort of numbers, much cheaper than grouping text); equal hashes are
# only candidates, so the exact rule runs whenever the counts differ.
SHAPE = """
SELECT count(*) AS rows,
       count(*) FILTER (WHERE is_student)
         <> count(DISTINCT hashtextextended(sid, 0)) FILTER (WHERE is_student) AS repeated_ids,
       count(*) FILTER (WHERE is_student AND existing_status = 'active') AS active_named,
       count(*) FILTER (WHERE is_student) AS students,
       count(*) FILTER (WHERE is_student AND NOT skip) AS changed,
       count(*) FILTER (WHERE is_student AND NOT skip AND ssid IS NOT NULL) AS changed_with_ssid,
       count(*) FILTER (WHERE NOT is_student AND reason IS NULL) AS ignored,
       count(*) FILTER (WHERE reason IS NOT NULL) AS quarantined
FROM ingest_rows"""

SSID_REPEATS = compose(
    """
SELECT count(*) <> count(DISTINCT hashtextextended(ssid, 0)) FROM ingest_rows
WHERE {pending} AND status = 'active' AND ssid IS NOT NULL""",
    pending=PENDING,
)

DUPLICATE_SOURCED_ID = compose(
    """
UPDATE ingest_rows SET reason = 'duplicate_sourced_id', detail = 'sourcedId appears on several rows'
WHERE {pending} AND sid IN (
  SELECT sid FROM ingest_rows WHERE is_student GROUP BY sid HAVING count(*) > 1)""",
    pending=PENDING,
)

UNKNOWN_ORG = compose(
    """
UPDATE ingest_rows r SET reason = 'unknown_org', detail = 'the school is not in orgs.csv'
WHERE {pending} AND r.status = 'active' AND r.school IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM delivered_orgs o WHERE o.sid = r.school)
  AND NOT EXISTS (SELECT 1 FROM schools k WHERE k.district_id = :district AND k.sis_source_id = r.school)""",
    pending=PENDING,
)

DUPLICATE_SSID_IN_BATCH = compose(
    """
UPDATE ingest_rows SET reason = 'duplicate_ssid', detail = 'another row of this delivery has the same SSID'
WHERE {pending} AND status = 'active' AND ssid IN (
  SELECT ssid FROM ingest_rows WHERE {pending} AND status = 'active' AND ssid IS NOT NULL
  GROUP BY ssid HAVING count(*) > 1)""",
    pending=PENDING,
)

# an SSID stays with an active record unless this batch deactivates that record or gives it
# another SSID; rows whose hash and status are unchanged cannot newly collide
SSID_KEPT_ELSEWHERE = compose(
    """
UPDATE ingest_rows r SET reason = 'duplicate_ssid',
  detail = 'another active SIS record of the district has this SSID'
WHERE {pending} AND r.status = 'active' AND r.ssid IS NOT NULL AND NOT ({unchanged})
  AND EXISTS (
    SELECT 1 FROM students e
    WHERE e.district_id = :district AND e.origin = 'sis' AND e.status = 'active' AND e.ssid = r.ssid
      AND e.sis_source_id <> r.sid
      AND NOT EXISTS (SELECT 1 FROM to_deactivate t WHERE t.id = e.id)
      AND NOT EXISTS (SELECT 1 FROM ingest_rows o WHERE o.existing_id = e.id AND o.reason IS NULL
                      AND o.is_student AND o.ssid IS DISTINCT FROM e.ssid))""",
    pending=PENDING,
    unchanged=UNCHANGED,
)

BULK_ABSENT = """
SELECT s.id FROM students s
WHERE s.district_id = :district AND s.origin = 'sis' AND s.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM ingest_rows r WHERE r.is_student AND r.existing_id = s.id)"""

ACTIVE_BEFORE = """
SELECT count(*) FROM students
WHERE district_id = :district AND origin = 'sis' AND status = 'active'"""

MARKED_DELETED = """
SELECT existing_id AS id FROM ingest_rows
WHERE reason IS NULL AND is_student AND status = 'tobedeleted' AND existing_status = 'active'"""

NONE_MARKED = "SELECT NULL::bigint AS id WHERE false"

# working table to_deactivate for a bulk file: the records it no longer carries, and those it marks
ABSENT_OR_MARKED = "{absent} UNION {marked}"


@dataclass(frozen=True)
class BatchShape:
    """What the rules need to know of a batch, from one pass over it."""

    rows: int
    repeated_ids: bool  # some sourcedId is on several student rows
    active_named: int  # student rows naming an active SIS record
    students: int
    changed: int  # student rows not sent exactly as stored (new, changed, reactivated, tobedeleted)
    changed_with_ssid: int
    ignored: int  # rows of others than students
    quarantined: int  # so far: by the row-level rules only

    @property
    def all_as_stored(self) -> bool:
        """Every student row is sent exactly as its active record stores it, each once: no rule can
        quarantine one (the set-wise rules concern students only), nothing is written."""
        return self.changed == 0 and not self.repeated_ids


def batch_shape(session: Session) -> BatchShape:
    row = session.execute(text(SHAPE)).one()
    return BatchShape(**row._mapping)


def validate_rows(session: Session, district_id: str, check_orgs: bool, shape: BatchShape) -> None:
    """Apply the set-wise rules in order; rules that only concern new or changed rows are skipped
    when the batch has none."""
    if shape.repeated_ids:
        session.execute(text(DUPLICATE_SOURCED_ID))
    if check_orgs and shape.changed:
        session.execute(text(UNKNOWN_ORG), {"district": district_id})
    # rows sent as stored keep their record's SSID, which no other active record of the district
    # has: with no sourcedId repeated, two rows can share an SSID only if one is new or changed
    may_repeat = shape.repeated_ids or shape.changed_with_ssid > 0
    if may_repeat and session.execute(text(SSID_REPEATS)).scalar_one():
        session.execute(text(DUPLICATE_SSID_IN_BATCH))


def find_deactivations(session: Session, district_id: str, bulk: bool, shape: BatchShape) -> int:
    """Working table to_deactivate: records a bulk file no longer carries, and rows sent as tobedeleted.
    Returns the district's active SIS records before the batch."""
    params = {"district": district_id}
    active = int(session.execute(text(ACTIVE_BEFORE), params).scalar_one())
    # a bulk file whose student rows name every active record (each once, as no sourcedId
    # repeats) leaves none absent: no anti-join
    absent = bulk and (shape.repeated_ids or shape.active_named != active)
    # rows sent as tobedeleted are never rows sent exactly as stored
    marked = MARKED_DELETED if shape.changed else NONE_MARKED
    select = compose(ABSENT_OR_MARKED, absent=BULK_ABSENT, marked=marked) if absent else marked
    create_work_table(session, "to_deactivate", select=select, params=params)
    session.execute(text("ALTER TABLE to_deactivate ADD PRIMARY KEY (id)"))
    if shape.changed:
        session.execute(text(SSID_KEPT_ELSEWHERE), params)
    return active
