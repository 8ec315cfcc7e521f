"""Stage a whole delivery: its files COPYed in, users mapped, checked and set against the district."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import SourceConfig
from worker.ingest.copy_in import read_header, stage_file
from worker.ingest.orgs import district_name, other_districts_orgs, stage_orgs
from worker.ingest.rows import build_ingest_rows, resolve_birth_dates
from worker.ingest.steps import at_step
from worker.ingest.validate import BatchShape, batch_shape, find_deactivations, validate_rows
from worker.ingest.workspace import create_work_table
from worker.sources.delivery import Delivery
from worker.sources.errors import DeliveryRejected
from worker.sources.manifest import read_manifest
from worker.sources.mapped_csv import mapped_users
from worker.sources.oneroster import (
    UserMapping,
    student_roles_sql,
    users_mapping,
)

# bulk work joins whole sets; right after a large load the table statistics still describe the old
# table (and staged files have none) and would pick row-by-row nested loops or sort-merges, so this
# transaction hashes instead. Compiling these one-off statements to machine code costs more than it
# saves. Every statement here reads whole tables: once a table passes min_parallel_table_scan_size
# (8 MB), a parallel plan pays off, though with no statistics the planner cannot tell.
BULK_WORK_SETTINGS = (
    "SET LOCAL enable_nestloop = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL jit = off",
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
)


@dataclass(frozen=True)
class StagedDelivery:
    kind: str  # bulk | delta
    users_file: str
    header: list[str]
    district_name: str | None
    active_before: int  # the district's active SIS records before this batch
    shape: BatchShape
    other_districts_orgs: list[str]  # orgs of orgs.csv that belong to another district


def stage_delivery(
    session: Session, delivery: Delivery, source: SourceConfig, ssid_pattern: str
) -> StagedDelivery:
    """Working tables ingest_rows (checked) and to_deactivate for DELIVERY, in the caller's transaction."""
    for setting in BULK_WORK_SETTINGS:
        session.execute(text(setting))
    others: list[str] = []
    if source.format == "csv":
        users_file = next(iter(delivery.members), "")
        mapping, kind, check_orgs = mapped_users(source, read_header(delivery, users_file)), "bulk", False
        stage_orgs(session, delivery, present=False)
    else:
        users_file, mapping, kind, others = _stage_oneroster(session, delivery, source)
        check_orgs = True
    header = stage_file(session, delivery, users_file, "stage_users", numbered=True)
    if header.rows == 0 and kind == "bulk":
        raise DeliveryRejected("empty_bulk", f"the bulk {users_file} has a header but no rows")
    at_step("mapping and checking the users")
    build_ingest_rows(session, source.district, mapping, ssid_pattern, header)
    shape = batch_shape(session)
    at_step("checking birth dates")
    resolve_birth_dates(session, shape.changed)
    at_step("checking the rows against each other and the district")
    validate_rows(session, source.district, check_orgs, shape)
    active = find_deactivations(session, source.district, bulk=kind == "bulk", shape=shape)
    return StagedDelivery(
        kind=kind,
        users_file=users_file,
        header=header.names,
        district_name=district_name(session, source.district),
        active_before=active,
        shape=shape,
        other_districts_orgs=others,
    )


def _stage_oneroster(
    session: Session, delivery: Delivery, source: SourceConfig
) -> tuple[str, UserMapping, str, list[str]]:
    manifest = read_manifest(delivery)
    kind = manifest.mode("users")
    if kind is None:
        raise DeliveryRejected("no_users_file", "manifest.csv lists no users file")
    demographics = roles = None
    if manifest.mode("demographics"):
        demographics = stage_file(session, delivery, "demographics.csv", "stage_demographics")
    if manifest.mode("roles") and manifest.version == "1.2":
        roles = stage_file(session, delivery, "roles.csv", "stage_roles")
        create_work_table(session, "stage_student_roles", select=student_roles_sql(roles))
    stage_orgs(session, delivery, manifest.mode("orgs") is not None)
    others = other_districts_orgs(session, source.district)
    users = read_header(delivery, "users.csv")
    mapping = users_mapping(source, manifest.version, users, demographics, roles, other_districts_orgs=others)
    return "users.csv", mapping, kind, others
