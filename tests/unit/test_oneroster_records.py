"""OneRoster REST records as CSV rows, and pages read record by record when one record is broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from worker.sources.oneroster_api import records as rec
from worker.sources.oneroster_api.read import delta_filter, parse_time
from worker.sources.oneroster_api.session import retry_after

REF = {"href": "https://x/orgs/sch-1", "sourcedId": "sch-1", "type": "org"}


def user_12(**fields: object) -> dict[str, object]:
    record = {
        "sourcedId": "stu-1", "status": "active", "dateLastModified": "2026-11-01T00:00:00Z",
        "userIds": [{"type": "stateID", "identifier": "0123456789"}],
        "givenName": "Zoë", "familyName": "O'Brien",
        "middleName": "", "identifier": "70001", "grades": ["05"], "primaryOrg": REF,
        "roles": [{"roleType": "primary", "role": "student", "org": REF}],
    }  # fmt: skip
    record.update(fields)
    return record


@pytest.mark.parametrize(
    ("record", "version", "expected"),
    [
        # a 1.2 record as servers send nearly all of them
        (user_12(), "1.2", ["stu-1", "active", "2026-11-01T00:00:00Z", "sch-1", "student",
                            "{stateID:0123456789}", "Zoë", "O'Brien", "", "70001", "05", "", ""]),
        # 1.2 without primaryOrg: the primary role's org first, then the others
        (user_12(primaryOrg=None, roles=[
            {"roleType": "secondary", "role": "student", "org": {"sourcedId": "sch-2"}},
            {"roleType": "primary", "role": "student", "org": {"sourcedId": "sch-3"}}]), "1.2",
         ["stu-1", "active", "2026-11-01T00:00:00Z", "sch-3,sch-2", "student", "{stateID:0123456789}",
          "Zoë", "O'Brien", "", "70001", "05", "", ""]),
        # 1.1: role and orgs on the user
        ({"sourcedId": "stu-1", "status": "active", "dateLastModified": "x", "role": "student", "orgs": [REF],
          "givenName": "Ana", "familyName": "Lee", "grades": ["KG", "01"]}, "1.1",
         ["stu-1", "active", "x", "sch-1", "student", "", "Ana", "Lee", "", "", "KG,01", "", ""]),
        # a missing required field is sent empty: the ingest quarantines it as missing_required
        (user_12(givenName=None), "1.2", ["stu-1", "active", "2026-11-01T00:00:00Z", "sch-1", "student",
                                          "{stateID:0123456789}", "", "O'Brien", "", "70001", "05", "", ""]),
    ],
)  # fmt: skip
def test_a_students_record_becomes_a_users_csv_row(record, version, expected):
    assert rec.student_row(record, version, []) == expected


def test_a_field_of_the_wrong_type_quarantines_the_row_with_the_record_as_received():
    row = rec.student_row(user_12(familyName={"first": "x"}), "1.2", [])

    assert row[-2] == "malformed_record|familyName is not text"
    assert json.loads(row[-1])["sourcedId"] == "stu-1"


def test_columns_the_id_mapping_names_are_taken_from_metadata_or_the_record():
    header = rec.users_header(["metadata.stateid", "username"])
    row = rec.student_row(user_12(metadata={"stateid": "0987654321"}, username="zob"), "1.2", header[11:13])

    assert dict(zip(header, row, strict=True))["metadata.stateid"] == "0987654321"
    assert dict(zip(header, row, strict=True))["username"] == "zob"


def test_a_page_with_one_record_that_is_not_json_yields_the_others_and_that_one_as_malformed():
    good = [json.dumps(user_12(sourcedId=f"stu-{i}")) for i in (1, 3)]
    broken = (
        '{"sourcedId": "stu-2", "givenName": "Ana", "familyName": "O"Hara", "orgs": [{"sourcedId": "x"}]}'
    )
    body = ('{"users": [' + ", ".join([good[0], broken, good[1]]) + "]}").encode()

    records, malformed = rec.page_records(body, "users")

    assert [r["sourcedId"] for r in records] == ["stu-1", "stu-3"]
    assert [(m.sourced_id, m.text) for m in malformed] == [("stu-2", broken)]


def test_a_body_that_is_not_a_page_at_all_is_none():
    assert rec.page_records(b"<html>login</html>", "users") is None
    assert rec.page_records(b'{"orgs": []}', "users") is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),  # seconds
        ("Thu, 01 Jan 2015 00:00:00 GMT", 0.0),  # an HTTP date already past
        ("soon", None),  # unreadable: the backoff decides
    ],
)
def test_retry_after_is_read_as_seconds_or_as_an_http_date(header, expected):
    assert retry_after(httpx.Response(503, headers={"Retry-After": header})) == expected


def test_the_delta_filter_asks_from_the_watermark_less_the_overlap_in_utc():
    watermark = datetime(2026, 11, 2, 8, 0, 30, 250_000, tzinfo=UTC)

    assert delta_filter(watermark, 600) == "dateLastModified>'2026-11-02T07:50:30Z'"


def test_server_times_without_a_zone_are_taken_as_utc():
    assert parse_time("2026-11-01T00:00:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_time("2026-11-01T00:00:00.000Z") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_time("yesterday") is None


def test_a_broken_last_record_of_a_page_is_kept_without_the_page_s_closing_brackets():
    broken = '{"sourcedId": "stu-9", "familyName": "O"Hara"}'
    body = ('{"users": [' + json.dumps(user_12()) + ", " + broken + "]}").encode()

    records, malformed = rec.page_records(body, "users")

    assert len(records) == 1 and [(m.sourced_id, m.text) for m in malformed] == [("stu-9", broken)]
