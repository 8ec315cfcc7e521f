"""Ingest reads real-world shaped deliveries: OneRoster 1.1 and 1.2, folders and zips, plain CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from config.settings import IdentifierSource, SourceConfig, get_settings
from models import BatchStatus, District, QuarantinedRow, School, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import FIXTURES, configure_sources, student, write_oneroster, zip_folder
from worker.ingest import ingest_batch
from worker.pull import register_delivery
from worker.sample_roster import DEMO_DISTRICT, FIRST_BATCH, write_bundle
from worker.sources.columns import typed_id_expression

DISTRICT = "17099"


@pytest.fixture(autouse=True)
def _settings_restored(monkeypatch):
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def ingest(engine: Engine, path: Path, source: SourceConfig | None = None, monkeypatch=None):
    source = source or SourceConfig(district=DISTRICT, name="test", inbox=path.parent)
    if monkeypatch is not None:
        configure_sources(monkeypatch, source)
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, source, path)
    return ingest_batch(engine, batch_id)


def sis_records(engine: Engine, district: str = DISTRICT) -> dict[str, Student]:
    with transaction(engine) as session:
        rows = session.execute(select(Student).where(Student.district_id == district)).scalars()
        return {s.sis_source_id: s for s in rows if s.sis_source_id}


def quarantined(engine: Engine, batch_id: int) -> list[tuple[int, str, str | None]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(QuarantinedRow)
            .where(QuarantinedRow.batch_id == batch_id)
            .order_by(QuarantinedRow.row_number)
        ).scalars()
        return [(q.row_number, q.reason_code, q.sis_source_id) for q in rows]


def test_messy_oneroster_bundle_lands_good_rows_and_quarantines_each_bad_row_with_its_reason(
    committed_engine,
):
    result = ingest(committed_engine, FIXTURES / "oneroster11_messy")

    assert result.status == BatchStatus.APPLIED
    assert result.counts == {
        "inserted": 4, "updated": 0, "unchanged": 0, "deactivated": 0, "quarantined": 9, "ignored": 1,
    }  # fmt: skip
    assert quarantined(committed_engine, result.batch_id) == [
        (7, "missing_required", "stu-5"),
        (8, "ssid_pattern", "stu-6"),
        (9, "duplicate_sourced_id", "stu-7"),
        (10, "duplicate_sourced_id", "stu-7"),
        (11, "duplicate_ssid", "stu-8"),
        (12, "duplicate_ssid", "stu-9"),
        (13, "unknown_org", "stu-10"),
        (14, "bad_date", "stu-11"),
        (15, "unknown_status", "stu-12"),
    ]


def test_names_with_diacritics_apostrophes_hyphens_commas_and_other_scripts_are_stored_as_sent(
    committed_engine,
):
    ingest(committed_engine, FIXTURES / "oneroster11_messy")

    records = sis_records(committed_engine)
    names = {sid: (r.first_name, r.middle_name, r.last_name) for sid, r in records.items()}
    assert names == {
        "stu-1": ("Seán", "Mary-Kate", "O'Brien"),
        "stu-2": ("José", None, "García-López, Jr."),
        "stu-3": ("Zoë", None, "Nguyễn"),
        "stu-4": ("小明", None, "王"),
    }
    assert (records["stu-1"].ssid, records["stu-1"].other_id) == ("1000000001", "50001")
    assert records["stu-2"].school_id == "sch-2"  # the first of several orgs
    assert records["stu-4"].grade == "KG"
    assert records["stu-1"].birth_date == date(2015, 9, 30)
    assert records["stu-4"].birth_date == date(2020, 1, 5)
    assert records["stu-3"].birth_date is None


def test_a_quarantined_row_keeps_the_row_as_sent_with_a_detail_naming_the_column(committed_engine):
    result = ingest(committed_engine, FIXTURES / "oneroster11_messy")

    with transaction(committed_engine) as session:
        row = session.execute(
            select(QuarantinedRow).where(
                QuarantinedRow.batch_id == result.batch_id, QuarantinedRow.row_number == 7
            )
        ).scalar_one()
    assert row.detail == "givenName is empty"
    assert row.raw is not None
    assert row.raw["familyName"] == "Kuznetsova"
    assert row.file_name == "users.csv"


def test_orgs_give_the_district_its_name_and_the_schools_table_its_rows(committed_engine):
    ingest(committed_engine, FIXTURES / "oneroster11_messy")

    with transaction(committed_engine) as session:
        district = session.get(District, DISTRICT)
        schools = session.execute(
            select(School.sis_source_id, School.name).where(School.district_id == DISTRICT)
        )
        assert district is not None
        assert district.name == "Lakeview, Unified"
        assert sorted(schools.all()) == [("sch-1", "Lakeview ALE"), ("sch-2", "Hill School")]


def test_oneroster_12_zip_picks_students_by_roles_and_takes_birth_dates_from_demographics(
    committed_engine, tmp_path
):
    bundle = zip_folder(FIXTURES / "oneroster12_roles", tmp_path / "delivery.zip")

    result = ingest(committed_engine, bundle)

    assert result.status == BatchStatus.APPLIED
    assert (result.counts["inserted"], result.counts["ignored"]) == (3, 1)
    records = sis_records(committed_engine)
    assert sorted(records) == ["u-1", "u-2", "u-4"]  # u-3 teaches; u-4 is a student and a guardian
    assert records["u-1"].birth_date == date(2014, 3, 4)
    assert records["u-2"].school_id == "sch-2"  # primaryOrgSourcedId wins over the role's org
    assert records["u-4"].school_id == "sch-2"  # the org of the primary student role
    assert records["u-1"].ssid == "2000000001"


def test_a_folder_and_a_zip_of_the_same_files_are_the_same_delivery(committed_engine, tmp_path):
    bundle = FIXTURES / "oneroster12_roles"
    source = SourceConfig(district=DISTRICT, name="test", inbox=tmp_path)
    with transaction(committed_engine) as session:
        first, new_first = register_delivery(session, source, bundle)
        second, new_second = register_delivery(session, source, zip_folder(bundle, tmp_path / "same.zip"))

    assert (new_first, new_second) == (True, False)
    assert first == second


def test_a_plain_csv_export_lands_through_its_column_map(committed_engine, tmp_path, monkeypatch):
    source = SourceConfig(
        district=DISTRICT,
        name="plain",
        inbox=tmp_path,
        format="csv",
        ssid_from=IdentifierSource(kind="column", column="State ID"),
        other_id_from=IdentifierSource(kind="column", column="Student Number"),
        column_map={
            "sourced_id": "Student Number",
            "first_name": "Legal First",
            "last_name": "Legal Last",
            "middle_name": "Middle",
            "birth_date": "DOB",
            "grade": "Grade Level",
            "school_id": "Building",
            "status": "Enrollment Status",
        },
    )

    result = ingest(committed_engine, FIXTURES / "plain_csv" / "students_export.csv", source, monkeypatch)

    assert result.status == BatchStatus.APPLIED
    assert (result.counts["inserted"], result.counts["quarantined"]) == (2, 1)
    records = sis_records(committed_engine)
    assert (records["8802"].first_name, records["8802"].last_name, records["8802"].middle_name) == (
        "Björn",
        "Ek-Lund",
        "Å",
    )
    assert (records["8801"].ssid, records["8801"].other_id) == ("3000000001", "8801")
    assert records["8801"].birth_date == date(2016, 5, 6)
    assert quarantined(committed_engine, result.batch_id) == [(4, "ssid_pattern", "8803")]


@pytest.mark.parametrize(
    ("ssid_from", "row_fields", "expected"),
    [
        # a typed userIds entry under a configured label
        (
            IdentifierSource(kind="user_ids", labels=["StateID"]),
            {"userIds": "{LDAP:9},{StateID:4100000001}"},
            "4100000001",
        ),
        # the identifier column holds the SSID
        (IdentifierSource(kind="column", column="identifier"), {"identifier": "4100000001"}, "4100000001"),
        # a metadata column holds the SSID
        (
            IdentifierSource(kind="column", column="metadata.stateId"),
            {"metadata.stateId": "4100000001"},
            "4100000001",
        ),
        # a label the source does not use: no SSID
        (IdentifierSource(kind="user_ids", labels=["SSID"]), {"userIds": "{StateID:4100000001}"}, None),
    ],
)
def test_the_ssid_comes_from_where_the_source_config_says(
    committed_engine, tmp_path, monkeypatch, ssid_from, row_fields, expected
):
    bundle = write_oneroster(tmp_path / "b", [student("s-1", **row_fields)])
    if "metadata.stateId" in row_fields:
        _add_column(bundle / "users.csv", "metadata.stateId", row_fields["metadata.stateId"])
    source = SourceConfig(district=DISTRICT, name="test", inbox=tmp_path, ssid_from=ssid_from)

    ingest(committed_engine, bundle, source, monkeypatch)

    assert sis_records(committed_engine)["s-1"].ssid == expected


def _add_column(users: Path, name: str, value: str) -> None:
    lines = users.read_text().splitlines()
    users.write_text("\n".join([f"{lines[0]},{name}", *(f"{line},{value}" for line in lines[1:])]) + "\n")


def test_a_bundle_written_by_the_demo_roster_writer_ingests(committed_engine, tmp_path):
    bundle = write_bundle(tmp_path / "demo", FIRST_BATCH)
    source = SourceConfig(district=DEMO_DISTRICT, name="demo", inbox=tmp_path)

    result = ingest(committed_engine, bundle, source)

    assert result.status == BatchStatus.APPLIED
    assert (result.counts["inserted"], result.counts["ignored"]) == (7, 1)
    assert sis_records(committed_engine, DEMO_DISTRICT)["stu-002"].last_name == "García-López"


# expected per bundle: (inserted, quarantined, ignored, status)
REAL_BUNDLES = {
    "lepo_roster_hub__sample_csv_en": (20, 0, 0, "applied"),
    "lepo_roster_hub__sample_csv_ja": (20, 0, 0, "applied"),
    "moodle_enrol_oneroster__Test_full_data_set": (3, 0, 3, "applied"),
    "moodle_enrol_oneroster__Test_minimal_data_set": (3, 0, 3, "applied"),
    "moodle_enrol_oneroster__oneroster_test_data": (1, 0, 0, "applied"),
    "moodle_enrol_oneroster__v1p2_full_dataset": (3, 0, 3, "applied"),
    "oat_sa_oneroster_import__OneRosterv1p1BaseCSV": (2, 0, 0, "applied"),
}


def test_every_real_oneroster_bundle_ingests_with_its_expected_counts(committed_engine, shared_data):
    folder = shared_data / "real-oneroster"
    if not folder.is_dir():
        pytest.skip("../shared/data/real-oneroster is absent")
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert found == sorted(REAL_BUNDLES)
    outcomes = {}
    for number, name in enumerate(found):
        result = ingest(
            committed_engine, folder / name, SourceConfig(district=f"9{number:04d}", name=name, inbox=folder)
        )
        counts = result.counts
        outcomes[name] = (counts["inserted"], counts["quarantined"], counts["ignored"], str(result.status))
    assert outcomes == REAL_BUNDLES


@pytest.mark.parametrize(
    "user_ids",
    [
        "{SSID:4100000001}",  # the usual shape: string functions
        "{SSID:4100000001},{LDAP:9}",
        "{LDAP:9},{SSID:4100000001}",  # another type first: the pattern
        "{StateID:4100000002}{SSID:4100000001}",  # the first entry of any configured label wins
        "{ SSID : 4100000001 }",  # spaces: the pattern
        "{SSID:}",  # an empty value
        "{SSID:4100000001",  # never closed
        "{SSIDX:1},{SSID:4100000001}",  # a longer label that is not configured
        "{ssid:4100000003}",  # labels are matched as written
        "SSID:4100000001",  # no braces at all
        "",
        None,
    ],
)
def test_a_typed_id_is_cut_out_exactly_as_the_pattern_finds_it(db_session, user_ids):
    sql, params = typed_id_expression("CAST(:value AS text)", ["SSID", "StateID"], "ssid_re")

    by_pattern = "substring(CAST(:value AS text) from :ssid_re)"
    fast, pattern = db_session.execute(
        text(f"SELECT nullif(btrim({sql}), ''), nullif(btrim({by_pattern}), '')"),
        {**params, "value": user_ids},
    ).one()

    assert fast == pattern
