"""The staged users as SIS records, in two set-based statements: the first maps and hashes every
row (working table mapped_rows), the second joins each to the district's existing SIS record and
checks it row by row (ingest_rows). Each is one flat SELECT, which Postgres runs with parallel
workers, and each expression that costs anything is written once. Birth dates are checked after,
once per distinct value (working table birth_dates, which the writes join). A row whose digest
equals the stored one is carried through unmapped (its name, id, grade, school and birth-date
fields NULL; nothing after this reads them for an unchanged row).

Row-level reason codes (first that applies): wrong_field_count, malformed_record (a record an
API read could not map), missing_required, unknown_status, ssid_pattern, value_too_long,
other_id_format, bad_date (the SSID and Other ID rules are config/identifiers.py's). Set-wise
rules follow in validate.py.
VALID_ACTIVE and UNCHANGED name ingest_rows' row classes for the counts and the writes.
"""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from config.identifiers import OTHER_ID_PATTERN, sql_fullmatch, sql_trimmed
from matching.core.search_keys import name_key_sql
from worker.ingest.copy_in import staged_columns
from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header
from worker.sources.oneroster import UserMapping
from worker.sql import compose

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

# one "reason|detail" per bad row, computed once; the detail names the column, never the value.
# Lengths are held where a column or an index entry would refuse the value: an index entry holds
# at most 2,704 bytes (the name-search index carries both names' keys, the unique index the
# sourcedId), and one refused entry would fail the whole batch
PROBLEM = """
CASE
  WHEN extra THEN 'wrong_field_count|the row has more fields than the header'
  WHEN NOT is_student THEN NULL
  WHEN problem IS NOT NULL THEN problem
  WHEN sid = '' THEN 'missing_required|sourcedId is empty'
  WHEN length(sid) > 255 THEN 'value_too_long|sourcedId is longer than 255 characters'
  WHEN status NOT IN ('active', 'tobedeleted') THEN 'unknown_status|status is not active or tobedeleted'
  WHEN status = 'tobedeleted' THEN NULL
  WHEN given = '' THEN 'missing_required|givenName is empty'
  WHEN family = '' THEN 'missing_required|familyName is empty'
  WHEN NOT ssid_ok THEN 'ssid_pattern|SSID does not match the configured pattern'
  WHEN length(ssid) > 32 THEN 'value_too_long|SSID is longer than 32 characters'
  WHEN length(other_id) > 64 THEN 'value_too_long|Other ID is longer than 64 characters'
  WHEN NOT {other_id_conforms} THEN 'other_id_format|Other ID holds a control character'
  WHEN length(grade) > 16 THEN 'value_too_long|grade is longer than 16 characters'
  WHEN length(given) > 200 THEN 'value_too_long|givenName is longer than 200 characters'
  WHEN length(family) > 200 THEN 'value_too_long|familyName is longer than 200 characters'
  WHEN length(middle) > 200 THEN 'value_too_long|middleName is longer than 200 characters'
  WHEN length(school) > 255 THEN 'value_too_long|the school id is longer than 255 characters'
END"""

# the Other ID rule of config/identifiers.py, as a literal: the same pattern staff input is checked with
ROW_PROBLEM = compose(
    PROBLEM, other_id_conforms=sql_fullmatch("other_id", "'" + OTHER_ID_PATTERN.replace("'", "''") + "'")
)

# each distinct birth-date text of the rows to write, checked once (a district has a few thousand)
BIRTH_DATES = compose(
    """
SELECT birth_text, {birth_date} AS birth_date
FROM (SELECT DISTINCT birth_text FROM ingest_rows WHERE birth_text IS NOT NULL) d""",
    birth_date=BIRTH_DATE,
)

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
    made = create_work_table(
        session, "mapped_rows", select=mapped_rows_statement(mapping, mapping.joins), params=params
    )
    if mapping.joins_one_per_user is not None and made.rowcount != staged.rows:
        # a joined file repeats a user: join one row per user instead
        session.execute(text("DROP TABLE mapped_rows"))
        select = mapped_rows_statement(mapping, mapping.joins_one_per_user)
        create_work_table(session, "mapped_rows", select=select, params=params)
    create_work_table(session, "ingest_rows", select=COMPARED, params={"district": district_id})
    session.execute(text("DROP TABLE mapped_rows"))


# each staged record (alias u) mapped by the source's field expressions and digested, in one flat
# statement (each expression appears once, so Postgres can run it with parallel workers)
MAPPED_ROWS = """
SELECT u.n + 1 AS row_number, u.extra, btrim(coalesce({sid}, '')) AS sid, {digest} AS row_hash,
  CASE WHEN lower(btrim(coalesce({status}, ''))) = '' THEN 'active'
       ELSE lower(btrim({status})) END AS status,
  coalesce({is_student}, false) AS is_student,
  {ssid_trimmed} AS ssid, coalesce({ssid_conforms}, true) AS ssid_ok,
  btrim(coalesce({given}, '')) AS given, btrim(coalesce({family}, '')) AS family,
  nullif(btrim({middle}), '') AS middle, {other_id_trimmed} AS other_id,
  nullif(btrim({grade}), '') AS grade, nullif(btrim({school}), '') AS school,
  nullif(btrim({birth}), '') AS birth_text, {birth_sent} AS birth_sent,
  nullif(btrim({problem}), '') AS problem
FROM stage_users u {joins}"""

# the columns this source maps as sent, what joins add to them, and how the source maps them (the
# seed): equal digests mean nothing to map, check or write. Columns nothing reads
# (dateLastModified, email, ...) are left out, so an export that only restamps them is an
# unchanged re-sync. A 64-bit hash: cheap enough for every row of a million-row file, and a
# collision would only skip one rewrite. A row with extra fields never matches.
DIGEST = (
    "int8send(hash_array_extended("
    "ARRAY[{read}, {birth}, ({is_student})::text, {school}, u.extra::text]::text[], :seed))"
)


def mapped_rows_statement(mapping: UserMapping, joins: str) -> str:
    """The SELECT that fills working table mapped_rows, the source's JOINS feeding its fields."""
    fields = mapping.fields
    read = sorted({int(n) for value in fields.values() for n in re.findall(r"\bu\.c(\d+)\b", value)})
    digest = compose(DIGEST, read=staged_columns(read, alias="u"), **fields)
    ids = {
        "ssid_trimmed": sql_trimmed(fields["ssid"]),
        "ssid_conforms": sql_fullmatch(sql_trimmed(fields["ssid"]), ":ssid_pattern"),
        "other_id_trimmed": sql_trimmed(fields["other_id"]),
    }
    return compose(MAPPED_ROWS, digest=digest, joins=joins, **fields, **ids)


# which stored rows a mapped record is skipped for: its digest equals the stored one and the
# record is active. A skipped row is carried through unmapped: its status and SSID as stored, its
# other mapped fields NULL (nothing after this reads them for such a row).
SKIP = "coalesce(s.existing_hash = m.row_hash AND s.existing_status = 'active', false)"
UNLESS_SKIPPED = "CASE WHEN {skip} THEN {kept} ELSE {mapped} END AS {name}"
# ingest_rows' column, what a skipped row carries, and what a mapped row does
CARRIED = (
    ("status", "'active'", "m.status"),
    ("given", "NULL", "m.given"),
    ("family", "NULL", "m.family"),
    ("middle", "NULL", "m.middle"),
    ("ssid", "s.existing_ssid", "m.ssid"),
    ("other_id", "NULL", "m.other_id"),
    ("grade", "NULL", "m.grade"),
    ("school", "NULL", "m.school"),
    ("birth_text", "NULL", "m.birth_text"),
    ("birth_sent", "NULL", "m.birth_sent"),
    ("search_last", "NULL", name_key_sql("m.family")),
    ("search_first", "NULL", name_key_sql("m.given")),
    ("reason", "NULL", compose("split_part({problem}, '|', 1)", problem=ROW_PROBLEM)),
    ("detail", "NULL", compose("split_part({problem}, '|', 2)", problem=ROW_PROBLEM)),
)

# each mapped record joined to the district's stored SIS record of its sourcedId
COMPARED = compose(
    """
SELECT m.row_number, m.extra, m.sid, {skip} OR m.is_student AS is_student,
  {carried},
  m.row_hash, {skip} AS skip,
  s.existing_id, s.existing_status, s.existing_ssid,
  coalesce(s.existing_hash = m.row_hash, false) AS same_hash
FROM mapped_rows m
LEFT JOIN (
  SELECT sis_source_id AS existing_sid, id AS existing_id, status AS existing_status,
    ssid AS existing_ssid, row_hash AS existing_hash
  FROM students WHERE district_id = :district AND origin = 'sis'
) s ON s.existing_sid = m.sid""",
    skip=SKIP,
    carried=",\n  ".join(
        compose(UNLESS_SKIPPED, skip=SKIP, name=name, kept=kept, mapped=mapped)
        for name, kept, mapped in CARRIED
    ),
)

# ingest_rows' row classes (alias r), shared by the counts (outcome.py) and the writes (apply.py),
# which must agree on them: a valid student row that is, or stays, active; and one sent exactly
# as its active record stores it
VALID_ACTIVE = "r.is_student AND r.reason IS NULL AND r.status = 'active'"
UNCHANGED = "r.same_hash AND r.existing_status = 'active'"


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
