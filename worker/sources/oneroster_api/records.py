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

import orjson

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
    if type(record) is dict and not extra_columns:
        row = _plain_student_row(record, version)
        if row is not None:
            return row
    return _student_row(record, version, extra_columns)


def _plain_student_row(record: dict[str, Any], version: str) -> list[str] | None:
    """The row of a record shaped as servers send nearly all of them; None for any other shape.
    Written for speed (a million records a read): the general path costs about three times this."""
    get = record.get
    sid, status, stamp = get("sourcedId"), get("status"), get("dateLastModified")
    given, family, middle, identifier = (
        get("givenName"),
        get("familyName"),
        get("middleName", ""),
        get("identifier", ""),
    )
    if not (type(sid) is str and type(status) is str and type(stamp) is str and type(given) is str
            and type(family) is str and type(middle) is str and type(identifier) is str):  # fmt: skip
        return None
    try:
        ids = ",".join(["{%s:%s}" % (i["type"], i["identifier"]) for i in get("userIds") or ()])  # noqa: UP031
        grades = ",".join(get("grades") or ())
        if version == "1.2":
            primary = record["primaryOrg"]["sourcedId"]
            roles = record["roles"]
            if type(primary) is not str or len(roles) != 1 or roles[0]["org"]["sourcedId"] != primary:
                return None
            orgs = primary
        else:
            orgs = ",".join([org["sourcedId"] for org in record["orgs"]])
    except (KeyError, TypeError, IndexError):
        return None
    return [sid, status, stamp, orgs, "student", ids, given, family, middle, identifier, grades, "", ""]


def _student_row(record: Any, version: str, extra_columns: list[str]) -> list[str]:
    if type(record) is not dict:
        return _problem_row(len(USERS) + len(extra_columns), "the record is not a JSON object", record)
    get = record.get
    fields = [get(name) for name in TEXT_FIELDS]
    sid, status, stamp, given, family, middle, identifier = (
        value if type(value) is str else _text(value) for value in fields
    )
    grades = get("grades")
    row = [
        sid,
        status,
        stamp,
        _orgs_1p2(record) if version == "1.2" else _orgs_1p1(get("orgs")),
        "student",  # read from /students
        _user_ids(get("userIds")),
        given,
        family,
        middle,
        identifier,
        ",".join(g if type(g) is str else _text(g) for g in grades) if type(grades) is list else "",
    ]
    if extra_columns:
        row += [_extra(record, column) for column in extra_columns if column not in USERS]
    if any(type(value) in (dict, list) for value in fields):
        wrong = next(n for n, v in zip(TEXT_FIELDS, fields, strict=True) if type(v) in (dict, list))
        return [*row, f"malformed_record|{wrong} is not text", _compact(record)]
    row += ("", "")
    return row


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
    if type(record) is not dict:
        return None
    get = record.get
    sid, status, stamp, birth = (
        get("sourcedId"),
        get("status", ""),
        get("dateLastModified", ""),
        get("birthDate"),
    )
    if type(sid) is not str:
        return None
    return [
        sid,
        status if type(status) is str else _text(status),
        stamp if type(stamp) is str else _text(stamp),
        birth if type(birth) is str else "",
    ]


def _user_ids(value: Any) -> str:
    """userIds as the CSV binding writes them: {type:identifier},{type:identifier}."""
    if type(value) is not list:
        return ""
    return ",".join(
        "{" + _text(i.get("type")) + ":" + _text(i.get("identifier")) + "}" for i in value if type(i) is dict
    )


def _orgs_1p1(orgs: Any) -> str:
    return ",".join(_ref(org) for org in orgs if _ref(org)) if type(orgs) is list else ""


def _orgs_1p2(record: dict[str, Any]) -> str:
    """1.2: the primary org first, then the orgs of the user's roles, primary role first."""
    found = [_ref(record.get("primaryOrg"))]
    roles = record.get("roles")
    if type(roles) is list:
        dicts = [r for r in roles if type(r) is dict]
        found += [_ref(r.get("org")) for r in dicts if r.get("roleType") == "primary"]
        found += [_ref(r.get("org")) for r in dicts if r.get("roleType") != "primary"]
    return ",".join(dict.fromkeys(org for org in found if org))


def _ref(value: Any) -> str:
    """The sourcedId of a GUIDRef ({"href", "sourcedId", "type"}), or ""."""
    if type(value) is not dict:
        return ""
    sid = value.get("sourcedId")
    return sid if type(sid) is str else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


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
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
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
        chunk = text[position:resume].rstrip(_SPACE)
        if resume >= len(text):  # the page's own closing brackets end the text
            chunk = chunk.removesuffix("}").rstrip(_SPACE).removesuffix("]").rstrip(_SPACE)
        chunk = chunk.removesuffix(",").rstrip(_SPACE)
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
