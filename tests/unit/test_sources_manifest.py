"""Reading a delivery without a database: manifests, headers, identifiers, checksums."""

from __future__ import annotations

import pytest

from config.settings import IdentifierSource
from tests.fixtures.rosters.bundles import FIXTURES, students, write_oneroster, zip_folder
from worker.sources.columns import Header, clean_header, identifier_expression
from worker.sources.delivery import is_delivery, open_delivery
from worker.sources.errors import DeliveryRejected
from worker.sources.manifest import read_manifest


def test_a_manifest_with_a_byte_order_mark_and_crlf_lists_its_bulk_and_delta_files():
    manifest = read_manifest(open_delivery(FIXTURES / "oneroster11_messy"))

    assert manifest.version == "1.1"
    assert manifest.files == {"orgs": "bulk", "users": "bulk", "demographics": "bulk"}


def test_a_one_point_two_manifest_names_its_roles_file():
    manifest = read_manifest(open_delivery(FIXTURES / "oneroster12_roles"))

    assert (manifest.version, manifest.mode("roles"), manifest.mode("userProfiles")) == ("1.2", "bulk", None)


def test_a_manifest_naming_a_missing_file_rejects_the_delivery(tmp_path):
    bundle = write_oneroster(tmp_path / "b", students(2))
    (bundle / "orgs.csv").unlink()

    with pytest.raises(DeliveryRejected) as rejected:
        read_manifest(open_delivery(bundle))

    assert (rejected.value.code, rejected.value.reason) == (
        "manifest_file_missing",
        "manifest.csv names orgs.csv but it is missing",
    )


def test_an_unknown_oneroster_version_rejects_the_delivery(tmp_path):
    bundle = write_oneroster(tmp_path / "b", students(2))
    text = (bundle / "manifest.csv").read_text().replace("oneroster.version,1.1", "oneroster.version,9.9")
    (bundle / "manifest.csv").write_text(text)

    with pytest.raises(DeliveryRejected) as rejected:
        read_manifest(open_delivery(bundle))

    assert rejected.value.code == "unsupported_version"


def test_files_in_a_zip_are_found_by_name_whatever_folder_or_case_they_have(tmp_path):
    bundle = zip_folder(write_oneroster(tmp_path / "b", students(2)), tmp_path / "d.zip")

    delivery = open_delivery(bundle)

    assert (delivery.has("USERS.csv"), delivery.has("classes.csv")) == (True, False)
    with delivery.open("users.csv") as stream:
        assert stream.read().startswith(b"sourcedId,")


def test_the_checksum_changes_with_the_content_and_not_with_the_container(tmp_path):
    folder = write_oneroster(tmp_path / "b", students(2))
    same = open_delivery(zip_folder(folder, tmp_path / "d.zip")).checksum()
    before = open_delivery(folder).checksum()
    write_oneroster(folder, students(3))

    assert same == before
    assert open_delivery(folder).checksum() != before


def test_an_inbox_counts_bundle_folders_and_zips_for_oneroster_and_csv_files_for_plain_csv(tmp_path):
    folder = write_oneroster(tmp_path / "b", students(1))
    archive = zip_folder(folder, tmp_path / "d.zip")
    loose = tmp_path / "export.csv"
    loose.write_text("a\n")

    assert [is_delivery(p, "oneroster") for p in (folder, archive, loose)] == [True, True, False]
    assert [is_delivery(p, "csv") for p in (folder, archive, loose)] == [False, False, True]


def test_header_names_are_trimmed_and_trailing_empty_names_dropped():
    assert clean_header([" sourcedId ", "role", "", ""]) == ["sourcedId", "role"]


def test_columns_are_looked_up_without_regard_to_case_and_absent_ones_are_null():
    header = Header(["userSourcedId", "birthdate"])

    assert header.column("d", "birthDate") == "d.c2"
    assert header.column("d", "sourcedId", "userSourcedId") == "d.c1"
    assert header.column("d", "grades") == "NULL::text"


@pytest.mark.parametrize(
    ("source", "expected_sql", "expected_params"),
    [
        # a plain column
        (IdentifierSource(kind="column", column="identifier"), "u.c3", {}),
        # nothing configured
        (IdentifierSource(kind="none"), "NULL::text", {}),
    ],
)
def test_an_identifier_source_becomes_sql_over_the_staged_columns(source, expected_sql, expected_params):
    header = Header(["sourcedId", "userIds", "identifier"])

    assert identifier_expression(header, "u", source, "ssid_re") == (expected_sql, expected_params)
