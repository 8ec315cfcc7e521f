"""A small invented district for the demo: a OneRoster 1.1 bundle written to a folder, and the
created records a registrar would have made before the SIS had the children."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_DISTRICT = "99001"
DEMO_DISTRICT_NAME = "Cedar Falls School District (demo)"

USERS_HEADER = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
]

# sourcedId, SSID, Other ID, given, family, middle, grade, birth date
FIRST_BATCH = [
    ("stu-001", "4400000011", "50011", "Amelia", "Okafor", "Grace", "03", "2017-04-12"),
    ("stu-002", "4400000022", "50022", "José", "García-López", "", "KG", "2021-02-03"),
    ("stu-003", "4400000033", "50033", "Liam", "O'Brien", "Patrick", "05", "2015-09-30"),
    ("stu-004", "4400000044", "50044", "Hana", "Nguyễn", "", "01", "2019-11-21"),
    ("stu-005", "4400000055", "50055", "William", "Haddad", "", "07", "2013-06-18"),
    ("stu-006", "4400000066", "50066", "Zoë", "Kowalski", "", "02", "2018-01-09"),
    ("stu-007", "4400000077", "50077", "Noah", "Lee", "", "04", "2016-07-22"),
    ("teach-01", "", "T-1", "Dana", "Whitfield", "", "", ""),
]
SECOND_BATCH = [
    *FIRST_BATCH,
    ("stu-008", "4400000088", "50088", "Mateo", "de la Cruz", "", "KG", "2021-05-14"),
]


@dataclass(frozen=True)
class CreatedRecordSeed:
    """A created record as a registrar would enter it, with what the demo expects to happen."""

    first_name: str
    last_name: str
    ssid: str | None
    other_id: str | None
    story: str


CREATED_RECORDS = [
    CreatedRecordSeed("Amelia", "Okafor", "4400000011", None, "SSID entered: links by SSID"),
    CreatedRecordSeed("Jose", "Garcia Lopez", None, "50022", "Other ID entered: links by Other ID"),
    CreatedRecordSeed("Noa", "Lee", None, None, "no ids: waits in the unlinked table for staff"),
    CreatedRecordSeed("Priya", "Raman", "4400000055", None, "mistyped SSID hits another child: held"),
    CreatedRecordSeed(
        "Mateo", "De La Cruz", "4400000088", None, "SIS record arrives in the second batch: links then"
    ),
]


def write_bundle(folder: Path, rows: Sequence[tuple[str, ...]]) -> Path:
    """Write a OneRoster 1.1 bulk bundle (manifest, orgs, users, demographics) into FOLDER."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(
        folder / "manifest.csv",
        ["propertyName", "value"],
        [
            ["manifest.version", "1.0"],
            ["oneroster.version", "1.1"],
            ["file.orgs", "bulk"],
            ["file.users", "bulk"],
            ["file.demographics", "bulk"],
            ["file.enrollments", "absent"],
            ["file.classes", "absent"],
            ["file.courses", "absent"],
            ["file.academicSessions", "absent"],
        ],
    )
    write_csv(
        folder / "orgs.csv",
        ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
        [
            [f"dist-{DEMO_DISTRICT}", "active", "", DEMO_DISTRICT_NAME, "district", DEMO_DISTRICT, ""],
            ["sch-1", "active", "", "Cedar Falls ALE Academy", "school", "9900101", f"dist-{DEMO_DISTRICT}"],
        ],
    )
    users, demographics = [], []
    for sid, ssid, other, given, family, middle, grade, birth in rows:
        role = "teacher" if sid.startswith("teach") else "student"
        user_ids = f"{{SSID:{ssid}}}" if ssid else ""
        users.append(
            [
                sid,
                "active",
                "2026-11-01T00:00:00Z",
                "true",
                "sch-1",
                role,
                sid,
                user_ids,
                given,
                family,
                middle,
                other,
                "",
                "",
                "",
                "",
                grade,
                "",
            ]
        )
        if birth:
            demographics.append([sid, "active", "", birth, ""])
    write_csv(folder / "users.csv", USERS_HEADER, users)
    write_csv(
        folder / "demographics.csv",
        ["sourcedId", "status", "dateLastModified", "birthDate", "sex"],
        demographics,
    )
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """A CSV file as OneRoster exports write them: a header row, then the rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
