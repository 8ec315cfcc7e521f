"""The staged users as SIS records: one set-based statement maps, checks row by row, hashes,
and joins each row to the district's existing SIS record; birth dates are checked after, once per
distinct value (working table birth_dates, which the writes join). A row whose digest equals the stored
one is carried through unmapped (its name, id, grade, school and birth-date fields stay NULL;
nothing after this reads them for an unchanged row): an unchanged re-sync costs a hash and a
join per row. (OFFSET 0 keeps each level a separate step, so expressions run once per row, not
once per reference.)

Row-level reason codes (first that applies): wrong_field_count, missing_required,
unknown_status, ssid_pattern, value_too_long, bad_date. Set-wise rules follow in validate.py.
"""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header
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
END"""

# each distinct birth-date text of the rows to write, checked once (a district has a few thousand)
BIRTH_DATES = f"""
SELECT birth_text, {BIRTH_DATE} AS birth_date
FROM (SELECT DISTINCT birth_text FROM ingest_rows WHERE birth_text IS NOT NULL) d"""

# bad_date comes last among the row-level reasons, so it only marks rows no other reason took
BAD_DATE = """
UPDATE ingest_rows r SET reason = 'bad_date', detail = 'birthDate is not a valid yyyy-mm-dd date'
FROM birth_dates b
WHERE b.birth_text = r.birth_text AND b.birth_date IS NULL
  AND r.reason IS NULL AND r.is_student AND r.status = 'active'"""


def build_ingest_rows(
    session: Session, district_id: str, mapping: UserMapping, ssid_pattern: str, staged: Header
) -> None:
    """Create working table ingest_rows: one row per users.csv record, joined to its stored record,
    and (unless it is exactly the row stored last time) mapped and checked."""
    f = mapping.fields
    # the columns this source maps as sent, what joins add to them, and how the source maps them
    # (the seed): equal digests mean nothing to map, check or write. Columns nothing reads
    # (dateLastModified, email, ...) are left out, so an export that only restamps them is an
    # unchanged re-sync. A 64-bit hash: cheap enough for every row of a million-row file, and a
    # collision would only skip one rewrite.
    read = sorted({int(n) for value in f.values() for n in re.findall(r"\bu\.c(\d+)\b", value)})
    joined = [f["birth"], f"({f['is_student']})::text", f["school"]]
    parts = [*(f"u.c{i}" for i in read), *joined, "u.extra::text"]  # a row with extra fields never matches
    digest = f"int8send(hash_array_extended(ARRAY[{', '.join(parts)}]::text[], :seed))"
    mapped = {
        **f,
        "birth": "u.j_birth",
        "is_student": "u.j_student",
        "school": "u.j_school",
        "birth_sent": "u.birth_sent",
    }
    unless_skipped = {
        name: f"CASE WHEN u.skip THEN NULL ELSE {expression} END"
        for name, expression in {
            "given": f"btrim(coalesce({mapped['given']}, ''))",
            "family": f"btrim(coalesce({mapped['family']}, ''))",
            "middle": f"nullif(btrim({mapped['middle']}), '')",
            "other_id": f"nullif(btrim({mapped['other_id']}), '')",
            "grade": f"nullif(btrim({mapped['grade']}), '')",
            "school": f"nullif(btrim({mapped['school']}), '')",
            "birth_text": f"nullif(btrim({mapped['birth']}), '')",
            "birth_sent": mapped["birth_sent"],
        }.items()
    }
    statement = f"""
SELECT c.row_number, c.extra, c.sid, c.status, c.is_student, c.given, c.family, c.middle, c.ssid,
  c.other_id, c.grade, c.school, c.birth_text, c.birth_sent, c.row_hash, c.skip,
  split_part(c.problem, '|', 1) AS reason, split_part(c.problem, '|', 2) AS detail,
  c.existing_id, c.existing_status, c.existing_ssid, c.same_hash
FROM (
  SELECT m.*, CASE WHEN skip THEN NULL ELSE {PROBLEM} END AS problem
  FROM (
    SELECT u.row_number, u.extra, u.sid, u.row_hash, u.existing_id, u.existing_status,
      u.existing_ssid, u.same_hash, u.skip,
      CASE WHEN u.skip THEN 'active'
           WHEN lower(btrim(coalesce({mapped["status"]}, ''))) = '' THEN 'active'
           ELSE lower(btrim({mapped["status"]})) END AS status,
      u.skip OR coalesce({mapped["is_student"]}, false) AS is_student,
      CASE WHEN u.skip THEN u.existing_ssid ELSE nullif(btrim({mapped["ssid"]}), '') END AS ssid,
      {", ".join(f"{expression} AS {name}" for name, expression in unless_skipped.items())}
    FROM (
      SELECT u.*, s.id AS existing_id, s.status AS existing_status, s.ssid AS existing_ssid,
        coalesce(s.row_hash = u.row_hash, false) AS same_hash,
        coalesce(s.row_hash = u.row_hash AND s.status = 'active', false) AS skip
      FROM (
        SELECT u.*, u.n + 1 AS row_number, btrim(coalesce({f["sid"]}, '')) AS sid,
          {f["birth"]} AS j_birth, {f["is_student"]} AS j_student, {f["school"]} AS j_school,
          {f["birth_sent"]} AS birth_sent, {digest} AS row_hash
        FROM stage_users u {{joins}}
        OFFSET 0
      ) u
      LEFT JOIN students s
        ON s.district_id = :district AND s.origin = 'sis' AND s.sis_source_id = u.sid
      OFFSET 0
    ) u
    OFFSET 0
  ) m
  OFFSET 0
) c
"""
    params = {"district": district_id, "ssid_pattern": ssid_pattern, "seed": mapping_seed(mapping)}
    all_params = {**params, **mapping.params}
    made = create_work_table(
        session, "ingest_rows", select=statement.replace("{joins}", mapping.joins), params=all_params
    )
    if mapping.joins_one_per_user is None:
        return
    if made.rowcount != staged.rows:  # a joined file repeats a user: join one row per user instead
        session.execute(text("DROP TABLE ingest_rows"))
        select = statement.replace("{joins}", mapping.joins_one_per_user)
        create_work_table(session, "ingest_rows", select=select, params=all_params)


def resolve_birth_dates(session: Session, rows_to_write: int) -> None:
    """Working table birth_dates (text as sent -> date, NULL when not a real date); bad_date marks rows."""
    if rows_to_write == 0:
        create_work_table(session, "birth_dates", columns="birth_text text, birth_date date")
        return
    create_work_table(session, "birth_dates", select=BIRTH_DATES)
    if session.execute(
        text("SELECT EXISTS (SELECT 1 FROM birth_dates WHERE birth_date IS NULL)")
    ).scalar_one():
        session.execute(text(BAD_DATE))


def mapping_seed(mapping: UserMapping) -> int:
    """A signed 64-bit number that changes whenever this source maps its rows differently."""
    joins = mapping.joins_one_per_user or mapping.joins
    described = json.dumps([mapping.fields, mapping.params, joins], sort_keys=True)
    return int.from_bytes(hashlib.sha256(described.encode()).digest()[:8], "big", signed=True)
