"""A plain CSV export (not OneRoster): every row is a student; config maps our fields to its columns."""

from __future__ import annotations

from config.settings import SourceConfig
from worker.sources.columns import Header, identifier_expression
from worker.sources.oneroster import UserMapping

# our field -> the export's column when the source's column_map does not say otherwise
DEFAULT_COLUMNS = {
    "sourced_id": "sourced_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "middle_name": "middle_name",
    "birth_date": "birth_date",
    "grade": "grade",
    "school_id": "school_id",
    "status": "status",
}
REQUIRED = ("sourced_id", "first_name", "last_name")


def mapped_users(source: SourceConfig, header: Header) -> UserMapping:
    columns = {**DEFAULT_COLUMNS, **source.column_map}
    header.require("the CSV", *(columns[f] for f in REQUIRED))
    ssid, ssid_params = identifier_expression(header, "u", source.ssid_from, "ssid_re")
    other_id, other_params = identifier_expression(header, "u", source.other_id_from, "other_id_re")
    fields = {
        "sid": header.column("u", columns["sourced_id"]),
        "status": header.column("u", columns["status"]),
        "given": header.column("u", columns["first_name"]),
        "family": header.column("u", columns["last_name"]),
        "middle": header.column("u", columns["middle_name"]),
        "ssid": ssid,
        "other_id": other_id,
        "grade": header.column("u", columns["grade"]),
        "school": header.column("u", columns["school_id"]),
        "birth": header.column("u", columns["birth_date"]),
        "birth_sent": "true" if header.position(columns["birth_date"]) else "false",
        "problem": "NULL::text",  # only an API read marks a record it could not map
        "is_student": "true",
    }
    return UserMapping(fields=fields, params={**ssid_params, **other_params})
