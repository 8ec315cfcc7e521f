"""The staged users as SIS records: one set-based statement maps, checks row by row, hashes,
and joins each row to the district's existing SIS record. (OFFSET 0 keeps each level a
separate step, so the regular expressions run once per row, not once per reference.)

Row-level reason codes (first that applies): wrong_field_count, missing_required,
unknown_status, ssid_pattern, value_too_long, bad_date. Set-wise rules follow in validate.py.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.sources.oneroster import UserMapping

# birth dates: ISO yyyy-mm-dd (a time part after it is ignored); checked without casting
# anything that could raise, so one bad value never aborts the statement
BIRTH_DATE = r"""
CASE WHEN birth_text ~ '^\d{4}-\d{2}-\d{2}([T ].*)?$' THEN
  CASE WHEN substr(birth_text, 1, 4)::int BETWEEN 1900 AND 2100
        AND substr(birth_text, 6, 2)::int BETWEEN 1 AND 12 THEN
    CASE WHEN substr(birth_text, 9, 2)::int BETWEEN 1 AND extract(day FROM
           make_date(substr(birth_text, 1, 4)::int, substr(birth_text, 6, 2)::int, 1)
           + interval '1 month - 1 day')::int
    THEN make_date(substr(birth_text, 1, 4)::int, substr(birth_text, 6, 2)::int,
                   substr(birth_text, 9, 2)::int)
    END
  END
END"""

# one "reason|detail" per bad row, computed once; the detail names the column, never the value
PROBLEM = """
CASE
  WHEN extra THEN 'wrong_field_count|the row has more fields than the header'
  WHEN NOT is_student THEN NULL
  WHEN sid = '' THEN 'missing_required|sourcedId is empty'
  WHEN status NOT IN ('active', 'tobedeleted') THEN 'unknown_status|status is not active or tobedeleted'
  WHEN status = 'tobedeleted' THEN NULL
  WHEN given = '' THEN 'missing_required|givenName is empty'
  WHEN family = '' THEN 'missing_required|familyName is empty'
  WHEN ssid !~ :ssid_pattern THEN 'ssid_pattern|SSID does not match the configured pattern'
  WHEN length(ssid) > 32 THEN 'value_too_long|SSID is longer than 32 characters'
  WHEN length(other_id) > 64 THEN 'value_too_long|Other ID is longer than 64 characters'
  WHEN length(grade) > 16 THEN 'value_too_long|grade is longer than 16 characters'
  WHEN birth_text IS NOT NULL AND birth_date IS NULL THEN 'bad_date|birthDate is not a valid yyyy-mm-dd date'
END"""

# the fields as sent, in a fixed order; NULL and '' hash differently
ROW_HASH = (
    "decode(md5(concat_ws(chr(31), sid, status, given, family, coalesce(middle, chr(30)), "
    "coalesce(ssid, chr(30)), coalesce(other_id, chr(30)), coalesce(grade, chr(30)), "
    "coalesce(school, chr(30)), coalesce(birth_text, chr(30)))), 'hex')"
)


def build_ingest_rows(session: Session, district_id: str, mapping: UserMapping, ssid_pattern: str) -> None:
    """Create temp table ingest_rows: one row per users.csv record, mapped, checked and joined."""
    f = mapping.fields
    session.execute(
        text(f"""
CREATE TEMP TABLE ingest_rows ON COMMIT DROP AS
SELECT c.row_number, c.extra, c.sid, c.status, c.is_student, c.given, c.family, c.middle, c.ssid,
  c.other_id, c.grade, c.school, c.birth_text, c.birth_date, c.row_hash,
  split_part(c.problem, '|', 1) AS reason, split_part(c.problem, '|', 2) AS detail,
  s.id AS existing_id, s.status AS existing_status, s.ssid AS existing_ssid,
  s.row_hash IS NOT DISTINCT FROM c.row_hash AS same_hash
FROM (
  SELECT dated.*, {PROBLEM} AS problem, {ROW_HASH} AS row_hash
  FROM (
    SELECT m.*, {BIRTH_DATE} AS birth_date
    FROM (
      SELECT u.n + 1 AS row_number, u.extra,
        btrim(coalesce({f["sid"]}, '')) AS sid,
        CASE lower(btrim(coalesce({f["status"]}, '')))
          WHEN '' THEN 'active' ELSE lower(btrim({f["status"]})) END AS status,
        coalesce({f["is_student"]}, false) AS is_student,
        btrim(coalesce({f["given"]}, '')) AS given,
        btrim(coalesce({f["family"]}, '')) AS family,
        nullif(btrim({f["middle"]}), '') AS middle,
        nullif(btrim({f["ssid"]}), '') AS ssid,
        nullif(btrim({f["other_id"]}), '') AS other_id,
        nullif(btrim({f["grade"]}), '') AS grade,
        nullif(btrim({f["school"]}), '') AS school,
        nullif(btrim({f["birth"]}), '') AS birth_text
      FROM stage_users u {mapping.joins}
      OFFSET 0
    ) m
    OFFSET 0
  ) dated
  OFFSET 0
) c
LEFT JOIN students s
  ON s.district_id = :district AND s.origin = 'sis' AND s.sis_source_id = c.sid
"""),
        {"district": district_id, "ssid_pattern": ssid_pattern, **mapping.params},
    )
    session.execute(text("ANALYZE ingest_rows"))
