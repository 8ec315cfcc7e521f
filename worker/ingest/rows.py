"""The staged users as SIS records, in two set-based statements: the first maps and hashes every
row (working table mapped_rows), the second joins each to the district's existing SIS record and
checks it row by row (ingest_rows). Each is one flat SELECT, which Postgres runs with parallel
workers, and each expression that costs anything is written once. Birth dates are checked after,
once per distinct value (working table birth_dates, which the writes join). A row whose digest
equals the stored one is carried through unmapped (its name, id, grade, school and birth-date
fields NULL; nothing after this reads them for an unchanged row).

Row-level reason codes (first that applies): wrong_field_count, missing_required,
unknown_status, ssid_pattern, value_too_long, bad_date. Set-wise rules follow in validate.py.
"""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.search_keys import name_key_sql
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
  WHEN NOT ssid_ok THEN 'ssid_pattern|SSID does not match the configured pattern'
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
    params = {"ssid_pattern": ssid_pattern, "seed": mapping_seed(mapping), **mapping.params}
    statement = mapped_rows_statement(mapping)
    made = create_work_table(
        session, "mapped_rows", select=statement.replace("{joins}", mapping.joins), params=params
    )
    if mapping.joins_one_per_user is not None and made.rowcount != staged.rows:
        # a joined file repeats a user: join one row per user instead
        session.execute(text("DROP TABLE mapped_rows"))
        select = statement.replace("{joins}", mapping.joins_one_per_user)
        create_work_table(session, "mapped_rows", select=select, params=params)
    create_work_table(session, "ingest_rows", select=COMPARED, params={"district": district_id})
    session.execute(text("DROP TABLE mapped_rows"))


def mapped_rows_statement(mapping: UserMapping) -> str:
    """Each staged record mapped and digested, in one flat statement (each expression appears once,
    so Postgres can run it with parallel workers); `{joins}` is left for the caller to fill."""
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
    ssid = f"nullif(btrim({f['ssid']}), '')"
    return f"""
SELECT u.n + 1 AS row_number, u.extra, btrim(coalesce({f["sid"]}, '')) AS sid, {digest} AS row_hash,
  CASE WHEN lower(btrim(coalesce({f["status"]}, ''))) = '' THEN 'active'
       ELSE lower(btrim({f["status"]})) END AS status,
  coalesce({f["is_student"]}, false) AS is_student,
  {ssid} AS ssid, coalesce({ssid} ~ :ssid_pattern, true) AS ssid_ok,
  btrim(coalesce({f["given"]}, '')) AS given, btrim(coalesce({f["family"]}, '')) AS family,
  nullif(btrim({f["middle"]}), '') AS middle, nullif(btrim({f["other_id"]}), '') AS other_id,
  nullif(btrim({f["grade"]}), '') AS grade, nullif(btrim({f["school"]}), '') AS school,
  nullif(btrim({f["birth"]}), '') AS birth_text, {f["birth_sent"]} AS birth_sent
FROM stage_users u {{joins}}"""


# each mapped record joined to the district's stored SIS record of its sourcedId; a record whose
# digest equals the stored one and is active is skipped (carried through unmapped: its name, ids,
# grade, school and birth-date fields NULL; nothing after this reads them for such a row)
SKIP = "coalesce(s.existing_hash = m.row_hash AND s.existing_status = 'active', false)"
COMPARED = f"""
SELECT m.row_number, m.extra, m.sid,
  CASE WHEN {SKIP} THEN 'active' ELSE m.status END AS status,
  {SKIP} OR m.is_student AS is_student,
  CASE WHEN {SKIP} THEN NULL ELSE m.given END AS given,
  CASE WHEN {SKIP} THEN NULL ELSE m.family END AS family,
  CASE WHEN {SKIP} THEN NULL ELSE m.middle END AS middle,
  CASE WHEN {SKIP} THEN s.existing_ssid ELSE m.ssid END AS ssid,
  CASE WHEN {SKIP} THEN NULL ELSE m.other_id END AS other_id,
  CASE WHEN {SKIP} THEN NULL ELSE m.grade END AS grade,
  CASE WHEN {SKIP} THEN NULL ELSE m.school END AS school,
  CASE WHEN {SKIP} THEN NULL ELSE m.birth_text END AS birth_text,
  CASE WHEN {SKIP} THEN NULL ELSE m.birth_sent END AS birth_sent,
  CASE WHEN {SKIP} THEN NULL ELSE {name_key_sql("m.family")} END AS search_last,
  CASE WHEN {SKIP} THEN NULL ELSE {name_key_sql("m.given")} END AS search_first,
  m.row_hash, {SKIP} AS skip,
  CASE WHEN {SKIP} THEN NULL ELSE split_part({PROBLEM}, '|', 1) END AS reason,
  CASE WHEN {SKIP} THEN NULL ELSE split_part({PROBLEM}, '|', 2) END AS detail,
  s.existing_id, s.existing_status, s.existing_ssid,
  coalesce(s.existing_hash = m.row_hash, false) AS same_hash
FROM mapped_rows m
LEFT JOIN (
  SELECT sis_source_id AS existing_sid, id AS existing_id, status AS existing_status,
    ssid AS existing_ssid, row_hash AS existing_hash
  FROM students WHERE district_id = :district AND origin = 'sis'
) s ON s.existing_sid = m.sid"""


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
