"""Set-wise rules over ingest_rows, run in order; each marks rows not yet quarantined.

Reason codes: duplicate_sourced_id (one sourcedId on several student rows), unknown_org (a
school that neither orgs.csv nor the district's known schools has), duplicate_ssid (two
rows claim one SSID, or an SSID another active SIS record of the district keeps).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

PENDING = "reason IS NULL AND is_student"

DUPLICATE_SOURCED_ID = f"""
UPDATE ingest_rows SET reason = 'duplicate_sourced_id', detail = 'sourcedId appears on several rows'
WHERE {PENDING} AND sid IN (
  SELECT sid FROM ingest_rows WHERE is_student GROUP BY sid HAVING count(*) > 1)"""

UNKNOWN_ORG = f"""
UPDATE ingest_rows r SET reason = 'unknown_org', detail = 'the school is not in orgs.csv'
WHERE {PENDING} AND r.status = 'active' AND r.school IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM delivered_orgs o WHERE o.sid = r.school)
  AND NOT EXISTS (SELECT 1 FROM schools k WHERE k.district_id = :district AND k.sis_source_id = r.school)"""

DUPLICATE_SSID_IN_BATCH = f"""
UPDATE ingest_rows SET reason = 'duplicate_ssid', detail = 'another row of this delivery has the same SSID'
WHERE {PENDING} AND status = 'active' AND ssid IN (
  SELECT ssid FROM ingest_rows WHERE {PENDING} AND status = 'active' AND ssid IS NOT NULL
  GROUP BY ssid HAVING count(*) > 1)"""

# an SSID stays with an active record unless this batch deactivates that record or gives it
# another SSID; rows whose hash and status are unchanged cannot newly collide
SSID_KEPT_ELSEWHERE = f"""
UPDATE ingest_rows r SET reason = 'duplicate_ssid',
  detail = 'another active SIS record of the district has this SSID'
WHERE {PENDING} AND r.status = 'active' AND r.ssid IS NOT NULL
  AND NOT (r.same_hash AND r.existing_status = 'active')
  AND EXISTS (
    SELECT 1 FROM students e
    WHERE e.district_id = :district AND e.origin = 'sis' AND e.status = 'active' AND e.ssid = r.ssid
      AND e.sis_source_id <> r.sid
      AND NOT EXISTS (SELECT 1 FROM to_deactivate t WHERE t.id = e.id)
      AND NOT EXISTS (SELECT 1 FROM ingest_rows o WHERE o.existing_id = e.id AND o.reason IS NULL
                      AND o.is_student AND o.ssid IS DISTINCT FROM e.ssid))"""

BULK_ABSENT = """
SELECT s.id FROM students s
WHERE s.district_id = :district AND s.origin = 'sis' AND s.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM ingest_rows r WHERE r.is_student AND r.sid = s.sis_source_id)"""

MARKED_DELETED = """
SELECT existing_id AS id FROM ingest_rows
WHERE reason IS NULL AND is_student AND status = 'tobedeleted' AND existing_status = 'active'"""


def validate_rows(session: Session, district_id: str, check_orgs: bool) -> None:
    params = {"district": district_id}
    session.execute(text(DUPLICATE_SOURCED_ID))
    if check_orgs:
        session.execute(text(UNKNOWN_ORG), params)
    session.execute(text(DUPLICATE_SSID_IN_BATCH))


def find_deactivations(session: Session, district_id: str, bulk: bool) -> None:
    """Temp table to_deactivate: records a bulk file no longer carries, and rows sent as tobedeleted."""
    select = f"{BULK_ABSENT} UNION {MARKED_DELETED}" if bulk else MARKED_DELETED
    session.execute(
        text(f"CREATE TEMP TABLE to_deactivate ON COMMIT DROP AS {select}"), {"district": district_id}
    )
    session.execute(text("ALTER TABLE to_deactivate ADD PRIMARY KEY (id)"))
    session.execute(text(SSID_KEPT_ELSEWHERE), {"district": district_id})
