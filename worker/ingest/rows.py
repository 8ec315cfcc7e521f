"""The staged users as SIS records: one set-based statement maps, checks row by row, hashes,
and joins each row to the district's existing SIS record. A row whose digest equals the stored
one is carried through unmapped (its name, id, grade, school and birth-date fields stay NULL;
nothing after this reads them for an unchanged row): an unchanged re-sync costs a hash and a
join per row. (OFFSET 0 keeps each level a separate step, so expressions run once per row, not
once per reference.)

Row-level reason codes (first that applies): wrong_field_count, missing_required,
unknown_status, ssid_pattern, value_too_long, bad_date. Set-wise rules follow in validate.py.
"""

from __future__ import annotations

import json

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

SAME_AND_ACTIVE = "s.row_hash = u.row_hash AND s.status = 'active'"


def build_ingest_rows(
    session: Session, district_id: str, mapping: UserMapping, ssid_pattern: str, width: int
) -> None:
    """Create temp table ingest_rows: one row per users.csv record, joined to its stored record,
    and (unless it is exactly the row stored last time) mapped and checked."""
    f = mapping.fields
    # the row as sent, what joins add to it, and how this source maps it: equal digests mean
    # nothing to map, check or write. A 64-bit hash of the joined text: cheap enough to take for
    # every row of a million-row file, and a collision would only skip one rewrite.
    parts = [*(f"u.c{i}" for i in range(1, width + 1)), f["birth"], f"({f['is_student']})::text", f["school"]]
    joined = " || chr(31) || ".join(f"coalesce({part}, chr(30))" for part in parts)
    digest = f"int8send(hashtextextended({joined} || chr(31) || CAST(:mapping AS text), 0))"
    mapped = {**f, "birth": "u.j_birth", "is_student": "u.j_student", "school": "u.j_school"}
    session.execute(
        text(f"""
CREATE TEMP TABLE ingest_rows ON COMMIT DROP AS
SELECT c.row_number, c.extra, c.sid, c.status, c.is_student, c.given, c.family, c.middle, c.ssid,
  c.other_id, c.grade, c.school, c.birth_text, c.birth_date, c.row_hash,
  split_part(c.problem, '|', 1) AS reason, split_part(c.problem, '|', 2) AS detail,
  c.existing_id, c.existing_status, c.existing_ssid, c.same_hash
FROM (
  SELECT dated.*, CASE WHEN skip THEN NULL ELSE {PROBLEM} END AS problem
  FROM (
    SELECT m.*, CASE WHEN skip THEN NULL ELSE {BIRTH_DATE} END AS birth_date
    FROM (
      SELECT u.row_number, u.extra, u.sid, u.row_hash,
        s.id AS existing_id, s.status AS existing_status, s.ssid AS existing_ssid,
        coalesce(s.row_hash = u.row_hash, false) AS same_hash,
        coalesce({SAME_AND_ACTIVE}, false) AS skip,
        CASE WHEN {SAME_AND_ACTIVE} THEN 'active'
             WHEN lower(btrim(coalesce({mapped["status"]}, ''))) = '' THEN 'active'
             ELSE lower(btrim({mapped["status"]})) END AS status,
        coalesce({SAME_AND_ACTIVE} OR {mapped["is_student"]}, false) AS is_student,
        CASE WHEN {SAME_AND_ACTIVE} THEN s.ssid
             ELSE nullif(btrim({mapped["ssid"]}), '') END AS ssid,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE btrim(coalesce({mapped["given"]}, '')) END AS given,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE btrim(coalesce({mapped["family"]}, '')) END AS family,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE nullif(btrim({mapped["middle"]}), '') END AS middle,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE nullif(btrim({mapped["other_id"]}), '') END AS other_id,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE nullif(btrim({mapped["grade"]}), '') END AS grade,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE nullif(btrim({mapped["school"]}), '') END AS school,
        CASE WHEN {SAME_AND_ACTIVE} THEN NULL ELSE nullif(btrim({mapped["birth"]}), '') END AS birth_text
      FROM (
        SELECT u.*, u.n + 1 AS row_number, btrim(coalesce({f["sid"]}, '')) AS sid,
          {f["birth"]} AS j_birth, {f["is_student"]} AS j_student, {f["school"]} AS j_school,
          {digest} AS row_hash
        FROM stage_users u {mapping.joins}
        OFFSET 0
      ) u
      LEFT JOIN students s
        ON s.district_id = :district AND s.origin = 'sis' AND s.sis_source_id = u.sid
      OFFSET 0
    ) m
    OFFSET 0
  ) dated
  OFFSET 0
) c
"""),
        {
            "district": district_id,
            "ssid_pattern": ssid_pattern,
            "mapping": json.dumps([f, mapping.params], sort_keys=True),
            **mapping.params,
        },
    )
