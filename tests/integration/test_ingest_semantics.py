"""Bulk and delta semantics: absent records go inactive (never deleted), unchanged rows are not
rewritten, SSIDs can move between records, re-deliveries are no-ops, rejects apply nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from config.settings import IdentifierSource, SourceConfig, get_settings
from models import Batch, BatchStatus, LearningPlan, QuarantinedRow, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import (
    configure_sources,
    student,
    students,
    write_oneroster,
    zip_folder,
)
from worker.ingest import ingest_batch
from worker.pull import pull_sources, register_delivery

DISTRICT = "17099"
SOURCE = SourceConfig(district=DISTRICT, name="test", inbox=Path("/nonexistent"))


@pytest.fixture(autouse=True)
def _settings_restored(monkeypatch):
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def deliver(engine: Engine, folder: Path, users, **options):
    write_oneroster(folder, users, **options)
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, folder)
    return ingest_batch(engine, batch_id)


def statuses(engine: Engine) -> dict[str, str]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Student.sis_source_id, Student.status).where(Student.district_id == DISTRICT)
        ).all()
    return {sid: str(status) for sid, status in rows}


def test_records_absent_from_a_bulk_file_become_inactive_and_keep_their_learning_plans(
    committed_engine, tmp_path
):
    deliver(committed_engine, tmp_path / "1", students(20))
    with transaction(committed_engine) as session:
        gone = session.execute(select(Student).where(Student.sis_source_id == "stu-19")).scalar_one()
        session.add(
            LearningPlan(
                district_id=DISTRICT, student_id=gone.id, started_on_student_id=gone.id,
                school_year="2026-27", start_date=date(2026, 9, 1),
            )
        )  # fmt: skip

    result = deliver(committed_engine, tmp_path / "2", students(19))

    assert (result.status, result.counts["deactivated"], result.counts["unchanged"]) == ("applied", 1, 19)
    assert statuses(committed_engine)["stu-19"] == "inactive"
    assert len(statuses(committed_engine)) == 20  # never deleted
    with transaction(committed_engine) as session:
        plans = session.execute(select(LearningPlan.student_id)).scalars().all()
        assert plans == [gone.id]


def test_a_delta_deactivates_only_rows_sent_as_tobedeleted(committed_engine, tmp_path):
    deliver(committed_engine, tmp_path / "1", students(20))

    result = deliver(
        committed_engine,
        tmp_path / "2",
        [student("stu-3", status="tobedeleted"), student("stu-50")],
        kind="delta",
    )

    assert result.counts == {
        "inserted": 1, "updated": 0, "unchanged": 0, "deactivated": 1, "quarantined": 0, "ignored": 0,
    }  # fmt: skip
    now = statuses(committed_engine)
    assert (now["stu-3"], now["stu-4"], now["stu-50"]) == ("inactive", "active", "active")


def test_unchanged_rows_are_not_rewritten_and_changed_rows_are(committed_engine, tmp_path):
    first = deliver(committed_engine, tmp_path / "1", students(10))
    rows = students(10)
    rows[2]["familyName"] = "Lee-Park"

    second = deliver(committed_engine, tmp_path / "2", rows)

    assert (second.counts["updated"], second.counts["unchanged"]) == (1, 9)
    with transaction(committed_engine) as session:
        last = dict(session.execute(select(Student.sis_source_id, Student.last_batch_id)).all())
    assert last["stu-2"] == second.batch_id
    assert {v for k, v in last.items() if k != "stu-2"} == {first.batch_id}


def test_a_record_sent_again_after_going_inactive_is_active_again(committed_engine, tmp_path):
    deliver(committed_engine, tmp_path / "1", students(20))
    deliver(committed_engine, tmp_path / "2", students(20)[1:])

    result = deliver(committed_engine, tmp_path / "3", students(20), note="again")

    assert result.counts["updated"] == 1
    assert statuses(committed_engine)["stu-0"] == "active"


def test_two_records_can_swap_ssids_in_one_batch(committed_engine, tmp_path):
    deliver(
        committed_engine, tmp_path / "1", [student("a", ssid="1111111111"), student("b", ssid="2222222222")]
    )

    result = deliver(
        committed_engine, tmp_path / "2", [student("a", ssid="2222222222"), student("b", ssid="1111111111")]
    )

    assert (result.status, result.counts["updated"]) == ("applied", 2)
    with transaction(committed_engine) as session:
        ssids = dict(session.execute(select(Student.sis_source_id, Student.ssid)).all())
    assert ssids == {"a": "2222222222", "b": "1111111111"}


def test_a_row_claiming_the_ssid_another_active_record_keeps_is_quarantined(committed_engine, tmp_path):
    deliver(committed_engine, tmp_path / "1", [student("a", ssid="1111111111")])

    result = deliver(
        committed_engine,
        tmp_path / "2",
        [student("b", ssid="1111111111"), student("c", ssid="3333333333")],
        kind="delta",
    )

    assert (result.status, result.counts["quarantined"], result.counts["inserted"]) == ("applied", 1, 1)
    with transaction(committed_engine) as session:
        reason = session.execute(select(QuarantinedRow.reason_code, QuarantinedRow.sis_source_id)).one()
    assert tuple(reason) == ("duplicate_ssid", "b")


def test_the_same_delivery_again_is_a_reported_no_op(committed_engine, tmp_path):
    first = deliver(committed_engine, tmp_path / "1", students(5))
    with transaction(committed_engine) as session:
        again, new = register_delivery(session, SOURCE, tmp_path / "1")

    assert (again, new) == (first.batch_id, False)
    assert ingest_batch(committed_engine, again) == first
    with transaction(committed_engine) as session:
        assert session.execute(select(func.count()).select_from(Batch)).scalar_one() == 1


def test_pull_registers_each_new_folder_and_zip_in_the_inbox_once(committed_engine, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    write_oneroster(inbox / "2026-11-01", students(5))
    zip_folder(write_oneroster(tmp_path / "z", students(6)), inbox / "2026-11-02.zip")
    (inbox / "notes.txt").write_text("not a delivery")
    configure_sources(monkeypatch, SourceConfig(district=DISTRICT, name="nightly", inbox=inbox))

    first = pull_sources(committed_engine)
    second = pull_sources(committed_engine, DISTRICT)

    assert (len(first), second) == (2, [])
    results = [ingest_batch(committed_engine, batch_id) for batch_id in first]
    assert [r.counts["inserted"] for r in results] == [5, 1]


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        # a required column is missing
        (lambda b: _rewrite(b / "users.csv", lambda t: t.replace("givenName", "firstName")), "givenName"),
        # bytes that are not UTF-8
        (
            lambda b: (b / "users.csv").write_bytes((b / "users.csv").read_bytes() + b"s-9,\xff\xfe,x\n"),
            "UTF-8",
        ),
        # a bulk users file with a header and no rows
        (lambda b: _rewrite(b / "users.csv", lambda t: t.splitlines()[0] + "\n"), "no rows"),
        # the manifest names a file the bundle lacks
        (lambda b: (b / "orgs.csv").unlink(), "orgs.csv"),
        # no manifest at all
        (lambda b: (b / "manifest.csv").unlink(), "manifest.csv"),
    ],
)
def test_a_structurally_broken_delivery_is_rejected_whole_with_a_clear_reason(
    committed_engine, tmp_path, break_it, reason
):
    deliver(committed_engine, tmp_path / "1", students(3))
    bundle = write_oneroster(tmp_path / "2", [*students(3), student("stu-new", ssid="5999999999")])
    break_it(bundle)
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, bundle)

    result = ingest_batch(committed_engine, batch_id)

    assert result.status == BatchStatus.REJECTED
    assert reason in (result.reason or "")
    assert sorted(statuses(committed_engine)) == ["stu-0", "stu-1", "stu-2"]
    with transaction(committed_engine) as session:
        assert session.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one() == 0


def _rewrite(path: Path, change) -> None:
    path.write_text(change(path.read_text()))


def test_records_of_another_district_are_never_touched(committed_engine, tmp_path):
    other = SourceConfig(district="27010", name="other", inbox=tmp_path)
    write_oneroster(tmp_path / "o", students(3), district="27010")
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, other, tmp_path / "o")
    ingest_batch(committed_engine, batch_id)

    deliver(committed_engine, tmp_path / "1", students(1))

    with transaction(committed_engine) as session:
        theirs = session.execute(
            text("SELECT count(*) FROM students WHERE district_id = '27010' AND status = 'active'")
        ).scalar_one()
    assert theirs == 3


def test_ragged_rows_and_mixed_line_endings_are_read_and_overlong_rows_quarantined(
    committed_engine, tmp_path
):
    bundle = write_oneroster(tmp_path / "r", students(3))
    lines = (bundle / "users.csv").read_text().splitlines()
    short = ",".join(lines[2].split(",")[:17])  # the trailing empty password column left off
    overlong = lines[3] + ",surplus"
    (bundle / "users.csv").write_bytes(
        "\r\n".join([lines[0], lines[1], short]).encode() + b"\n" + overlong.encode()
    )
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, bundle)

    result = ingest_batch(committed_engine, batch_id)

    assert (result.counts["inserted"], result.counts["quarantined"]) == (2, 1)
    with transaction(committed_engine) as session:
        row = session.execute(select(QuarantinedRow.row_number, QuarantinedRow.reason_code)).one()
    assert tuple(row) == (4, "wrong_field_count")


def test_values_longer_than_their_column_are_quarantined_not_truncated(committed_engine, tmp_path):
    rows = [student("a", grades="x" * 17), student("b", other_id="9" * 65), student("c")]

    result = deliver(committed_engine, tmp_path / "1", rows)

    assert (result.counts["inserted"], result.counts["quarantined"]) == (1, 2)
    with transaction(committed_engine) as session:
        reasons = session.execute(select(QuarantinedRow.reason_code, QuarantinedRow.detail)).all()
    assert sorted(tuple(r) for r in reasons) == [
        ("value_too_long", "Other ID is longer than 64 characters"),
        ("value_too_long", "grade is longer than 16 characters"),
    ]


def test_a_new_row_claiming_the_ssid_of_an_unchanged_row_quarantines_both(committed_engine, tmp_path):
    deliver(committed_engine, tmp_path / "1", students(3))

    result = deliver(committed_engine, tmp_path / "2", [*students(3), student("intruder", ssid="5000000001")])

    assert (result.counts["unchanged"], result.counts["quarantined"], result.counts["deactivated"]) == (
        2,
        2,
        0,
    )
    with transaction(committed_engine) as session:
        rows = session.execute(select(QuarantinedRow.sis_source_id, QuarantinedRow.reason_code)).all()
    assert sorted(tuple(r) for r in rows) == [("intruder", "duplicate_ssid"), ("stu-1", "duplicate_ssid")]


def test_a_changed_identifier_mapping_remaps_rows_that_were_sent_unchanged(
    committed_engine, tmp_path, monkeypatch
):
    deliver(committed_engine, tmp_path / "1", students(2))
    remapped = SourceConfig(
        district=DISTRICT, name="test", inbox=tmp_path, ssid_from=IdentifierSource(kind="none")
    )
    configure_sources(monkeypatch, remapped)

    result = deliver(committed_engine, tmp_path / "2", students(2), note="same rows")

    assert result.counts["updated"] == 2
    with transaction(committed_engine) as session:
        assert session.execute(select(Student.ssid)).scalars().all() == [None, None]


def birth_dates(engine: Engine) -> dict[str, date | None]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Student.sis_source_id, Student.birth_date).where(Student.district_id == DISTRICT)
        ).all()
    return dict(rows)


def test_an_empty_birth_date_clears_the_stored_one_and_a_delivery_without_dates_keeps_it(
    committed_engine, tmp_path
):
    users = students(3)
    sent = {"stu-0": "2015-01-02", "stu-1": "2016-03-04", "stu-2": "2017-05-06"}
    deliver(committed_engine, tmp_path / "1", users, birth_dates=sent)

    # stu-1's demographics row now has no date; stu-2 has no demographics row at all
    result = deliver(
        committed_engine, tmp_path / "2", users, birth_dates={"stu-0": "2015-01-02", "stu-1": ""}
    )

    assert (result.counts["updated"], result.counts["unchanged"]) == (2, 1)
    assert birth_dates(committed_engine) == {
        "stu-0": date(2015, 1, 2),
        "stu-1": None,
        "stu-2": date(2017, 5, 6),
    }

    deliver(committed_engine, tmp_path / "3", users)  # a delivery without demographics.csv

    assert birth_dates(committed_engine)["stu-0"] == date(2015, 1, 2)


def test_a_bad_birth_date_quarantines_its_row_once_per_distinct_value(committed_engine, tmp_path):
    users = students(4)
    sent = {
        "stu-0": "2015-02-29",
        "stu-1": "2016-02-29",
        "stu-2": "2015-02-29",
        "stu-3": "2016-02-29T00:00:00Z",
    }

    result = deliver(committed_engine, tmp_path / "1", users, birth_dates=sent)

    with transaction(committed_engine) as session:
        bad = session.execute(
            select(QuarantinedRow.sis_source_id, QuarantinedRow.reason_code).order_by(
                QuarantinedRow.row_number
            )
        ).all()
    assert bad == [("stu-0", "bad_date"), ("stu-2", "bad_date")]  # 2015 is not a leap year
    assert result.counts["inserted"] == 2
    assert birth_dates(committed_engine) == {"stu-1": date(2016, 2, 29), "stu-3": date(2016, 2, 29)}


def test_a_demographics_file_that_repeats_a_user_neither_multiplies_nor_loses_rows(
    committed_engine, tmp_path
):
    folder = tmp_path / "1"
    write_oneroster(folder, students(3), birth_dates={"stu-0": "2015-01-02", "stu-1": "2016-03-04"})
    with (folder / "demographics.csv").open("a") as demographics:
        demographics.write("stu-1,active,,2016-03-05,\n")  # stu-1 twice: the latest date is kept
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, folder)

    result = ingest_batch(committed_engine, batch_id)

    assert (result.status, result.counts["inserted"], result.counts["quarantined"]) == ("applied", 3, 0)
    assert birth_dates(committed_engine) == {
        "stu-0": date(2015, 1, 2),
        "stu-1": date(2016, 3, 5),
        "stu-2": None,
    }


def two_district_bundle(folder: Path, users) -> Path:
    """A state-style export: orgs.csv names this district and another, each with a school (the
    other's reached through a department, as orgs can nest)."""
    write_oneroster(folder, users)
    # appended by hand with LF after the writer's CRLF lines: COPY refuses the mixed line endings,
    # so orgs.csv goes through the csv-reader path
    with (folder / "orgs.csv").open("a") as orgs:
        orgs.write("dist-27010,active,,District 27010,district,27010,\n")
        orgs.write("sch-9,active,,Other School,school,270109,dist-27010\n")
        orgs.write("dep-9,active,,Other Department,department,,sch-9\n")
    return folder


def test_students_of_another_districts_schools_are_not_taken_in(committed_engine, tmp_path):
    users = [*students(20), student("far-1", orgSourcedIds="sch-9"), student("far-2", orgSourcedIds="dep-9")]
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, two_district_bundle(tmp_path / "1", users))

    result = ingest_batch(committed_engine, batch_id)

    assert (result.counts["inserted"], result.counts["ignored"]) == (20, 2)
    assert sorted(statuses(committed_engine)) == sorted(f"stu-{i}" for i in range(20))
    with transaction(committed_engine) as session:
        schools = session.execute(
            text("SELECT sis_source_id FROM schools WHERE district_id = :d"), {"d": DISTRICT}
        )
        assert sorted(schools.scalars()) == ["sch-1"]

    # stu-2 moves to the other district's school: this district's record goes inactive
    moved = [student("stu-2", ssid="5000000002", orgSourcedIds="sch-9")]
    moved += [row for row in students(20) if row["sourcedId"] != "stu-2"]
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, SOURCE, two_district_bundle(tmp_path / "2", moved))
    result = ingest_batch(committed_engine, batch_id)

    assert (result.counts["deactivated"], result.counts["ignored"]) == (1, 1)
    assert statuses(committed_engine)["stu-2"] == "inactive"


def test_an_unchanged_re_sync_counts_teachers_and_bad_rows_as_the_first_delivery_did(
    committed_engine, tmp_path
):
    users = [*students(5), student("t-1", role="teacher"), student("t-2", role="teacher")]
    counts = []
    for number in (1, 2):
        folder = write_oneroster(tmp_path / str(number), users, note=f"delivery {number}")
        lines = (folder / "users.csv").read_text().splitlines()
        lines[-1] += ",one field too many"  # t-2's row
        (folder / "users.csv").write_text("\r\n".join(lines) + "\r\n")
        with transaction(committed_engine) as session:
            batch_id, _ = register_delivery(session, SOURCE, folder)
        counts.append(ingest_batch(committed_engine, batch_id).counts)

    assert counts[0] == {**counts[1], "inserted": 5, "unchanged": 0}
    assert counts[1] == {
        "inserted": 0, "updated": 0, "unchanged": 5, "deactivated": 0, "quarantined": 1, "ignored": 1,
    }  # fmt: skip
    with transaction(committed_engine) as session:
        kept = session.execute(select(QuarantinedRow.batch_id, QuarantinedRow.reason_code)).all()
    assert sorted(kept) == [(1, "wrong_field_count"), (2, "wrong_field_count")]


def test_an_export_that_only_restamps_columns_nothing_reads_rewrites_nothing(committed_engine, tmp_path):
    deliver(committed_engine, tmp_path / "1", students(5))
    restamped = [
        {**row, "dateLastModified": "2026-11-28T02:00:00Z", "email": "x@example.org"} for row in students(5)
    ]

    result = deliver(committed_engine, tmp_path / "2", restamped)

    assert (result.counts["unchanged"], result.counts["updated"]) == (5, 0)
    changed = deliver(committed_engine, tmp_path / "3", [{**row, "grades": "06"} for row in restamped])
    assert (changed.counts["unchanged"], changed.counts["updated"]) == (0, 5)
