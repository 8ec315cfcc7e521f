"""OneRoster REST records (JSON) as rows of the OneRoster CSV files the ingest reads, and pages
read record by record when one record in them is not valid JSON.

Pure functions over plain data. A record that cannot be read (not JSON, not an object, a field
of the wrong type) becomes a row all the same, carrying `ale.problem` ("reason|detail", the
detail naming the field, never a value) and the text as received, so the ingest quarantines
that row and nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PROBLEM = "ale.problem"
RECEIVED = "ale.received"

USERS = [
    "sourcedId", "status", "dateLastModified", "orgSourcedIds", "role", "userIds", "givenName",
    "familyName", "middleName", "identifier", "grades",
]  # fmt: skip
ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
DEMOGRAPHICS = ["sourcedId", "status", "dateLastModified", "birthDate"]

TEXT_FIELDS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
)


@dataclass(frozen=True)
class Malformed:
    """A record of a page that is not valid JSON: its text, and its sourcedId when one can be seen."""

    text: str
    sourced_id: str


def users_header(extra_columns: list[str]) -> list[str]:
    """users.csv's columns: the standard ones, the extra ones a source's id mapping names, ours last."""
    extra = [c for c in extra_columns if c not in USERS]
    return [*USERS, *extra, PROBLEM, RECEIVED]


def student_row(record: Any, version: str, extra_columns: list[str]) -> list[str]:
    """One students record (1.1 or 1.2) as a users.csv row of `users_header(extra_columns)`."""
    if not isinstance(record, dict):
        return _problem_row(len(USERS) + len(extra_columns), "the record is not a JSON object", record)
    wrong = _wrong_type(record)
    school_orgs = _orgs_1p2(record) if version == "1.2" else _refs(record.get("orgs"))
    row = [
        _text(record.get("sourcedId")),
        _text(record.get("status")),
        _text(record.get("dateLastModified")),
        ",".join(school_orgs),
        "student",  # read from /students
        _user_ids(record.get("userIds")),
        _text(record.get("givenName")),
        _text(record.get("familyName")),
        _text(record.get("middleName")),
        _text(record.get("identifier")),
        ",".join(_text(g) for g in _list(record.get("grades"))),
        *(_extra(record, column) for column in extra_columns if column not in USERS),
    ]
    if wrong:
        return [*row, f"malformed_record|{wrong} is not text", _compact(record)]
    return [*row, "", ""]


def malformed_student_row(malformed: Malformed, extra_columns: list[str]) -> list[str]:
    width = len(users_header(extra_columns)) - 2
    cells = [""] * width
    cells[0], cells[4] = malformed.sourced_id, "student"
    return [*cells, "malformed_record|the record is not valid JSON", malformed.text]


def org_row(record: Any) -> list[str] | None:
    """An orgs record as an orgs.csv row; None for one that is not an object (orgs carry no students)."""
    if not isinstance(record, dict):
        return None
    parent = record.get("parent")
    return [
        _text(record.get("sourcedId")),
        _text(record.get("status")),
        _text(record.get("dateLastModified")),
        _text(record.get("name")),
        _text(record.get("type")),
        _text(record.get("identifier")),
        _text(parent.get("sourcedId")) if isinstance(parent, dict) else "",
    ]


def demographics_row(record: Any) -> list[str] | None:
    """A demographics record as a demographics.csv row; None for one that cannot be read (the
    student's birth date is then kept as stored)."""
    if not isinstance(record, dict) or not isinstance(record.get("sourcedId"), str):
        return None
    birth = record.get("birthDate")
    return [
        _text(record.get("sourcedId")),
        _text(record.get("status")),
        _text(record.get("dateLastModified")),
        birth if isinstance(birth, str) else "",
    ]


def _user_ids(value: Any) -> str:
    """userIds as the CSV binding writes them: {type:identifier},{type:identifier}."""
    return ",".join(f"{{{_text(i.get('type'))}:{_text(i.get('identifier'))}}}" for i in _dicts(value))


def _orgs_1p2(record: dict[str, Any]) -> list[str]:
    """1.2: the primary org first, then the orgs of the user's roles, primary role first."""
    roles = sorted(_dicts(record.get("roles")), key=lambda r: r.get("roleType") != "primary")
    ordered = [*_refs([record.get("primaryOrg")]), *_refs([r.get("org") for r in roles])]
    return list(dict.fromkeys(o for o in ordered if o))


def _refs(value: Any) -> list[str]:
    return [_text(ref.get("sourcedId")) for ref in _dicts(value) if _text(ref.get("sourcedId"))]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _wrong_type(record: dict[str, Any]) -> str | None:
    for name in TEXT_FIELDS:
        if isinstance(record.get(name), dict | list):
            return name
    return None


def _extra(record: dict[str, Any], column: str) -> str:
    """A column a source's id mapping names: `metadata.<key>` from metadata, else a top-level field."""
    if column.startswith("metadata."):
        metadata = record.get("metadata")
        return _text(metadata.get(column[len("metadata.") :])) if isinstance(metadata, dict) else ""
    return _text(record.get(column))


def _problem_row(width: int, detail: str, record: Any) -> list[str]:
    return [*([""] * width), f"malformed_record|{detail}", _compact(record)]


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---- pages --------------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_SOURCED_ID = re.compile(r'"sourcedId"\s*:\s*"([^"\\]*)"')
_SPACE = " \t\r\n"


def page_records(body: bytes, key: str) -> tuple[list[Any], list[Malformed]] | None:
    """The records of a collection page (`{"<key>": [...]}`), and those that are not valid JSON;
    None when the body is not such a page at all."""
    try:
        document = json.loads(body)
    except ValueError:
        return _salvage(body.decode("utf-8", errors="replace"), key)
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        return None
    return document[key], []


def _salvage(text: str, key: str) -> tuple[list[Any], list[Malformed]] | None:
    """Read a page whose JSON is broken one record at a time: each record that decodes is kept; the
    text from a broken record to the start of the next record that decodes is one malformed record."""
    start = re.search(r'"' + re.escape(key) + r'"\s*:\s*\[', text)
    if start is None:
        return None
    records: list[Any] = []
    malformed: list[Malformed] = []
    for item in _elements(text, start.end()):
        if isinstance(item, Malformed):
            malformed.append(item)
        else:
            records.append(item)
    return records, malformed


def _elements(text: str, position: int) -> Iterator[Any]:
    while True:
        position = _skip(text, position, _SPACE + ",")
        if position >= len(text) or text[position] == "]":
            return
        record, end = _decode_element(text, position)
        if end is not None:
            yield record
            position = end
            continue
        resume = _next_record(text, position + 1)
        chunk = text[position:resume].rstrip(_SPACE + ",]}")
        found = _SOURCED_ID.search(chunk)
        yield Malformed(text=chunk, sourced_id=found.group(1) if found else "")
        if resume >= len(text):
            return
        position = resume


def _decode_element(text: str, position: int) -> tuple[Any, int | None]:
    """The array element at POSITION and where it ends, when it decodes and is followed by , or ]."""
    try:
        record, end = _DECODER.raw_decode(text, position)
    except ValueError:
        return None, None
    after = _skip(text, end, _SPACE)
    return (record, end) if after < len(text) and text[after] in ",]" else (None, None)


def _next_record(text: str, position: int) -> int:
    """Where the next whole record starts: an object after a comma that decodes, carries a sourcedId
    and is not a reference to another object (which has an href)."""
    while True:
        found = text.find("{", position)
        if found < 0:
            return len(text)
        back = found - 1
        while back >= 0 and text[back] in _SPACE:
            back -= 1
        if back >= 0 and text[back] == ",":
            record, end = _decode_element(text, found)
            if end is not None and _is_record(record):
                return found
        position = found + 1


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and "sourcedId" in value and "href" not in value


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position
