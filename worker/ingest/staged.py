"""Stage a whole delivery: its files COPYed in, users mapped, checked and set against the district."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import SourceConfig
from worker.ingest.rows import build_ingest_rows, resolve_birth_dates
from worker.ingest.staging import read_header, stage_file
from worker.ingest.validate import BatchShape, batch_shape, find_deactivations, validate_rows
from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header
from worker.sources.delivery import Delivery
from worker.sources.errors import DeliveryRejected
from worker.sources.manifest import read_manifest
from worker.sources.mapped_csv import mapped_users
from worker.sources.oneroster import (
    UserMapping,
    student_roles_sql,
    users_mapping,
)

DELIVERED_ORGS = """
SELECT btrim({sid}) AS sid, coalesce(nullif(btrim({name}), ''), btrim({sid})) AS name,
  left(coalesce(nullif(lower(btrim({type})), ''), 'school'), 32) AS org_type,
  btrim({identifier}) AS identifier, nullif(btrim({parent}), '') AS parent
FROM stage_orgs x WHERE btrim(coalesce({sid}, '')) <> ''"""

NO_ORGS = "sid text, name text, org_type text, identifier text, parent text"

# orgs.csv naming several districts (a state or multi-district export): the orgs that sit, through
# their parentSourcedId chain, under a district org other than this one. Their students belong to
# another district and are not taken in (counted as ignored), nor are those orgs.
OTHER_DISTRICTS_ORGS = """
WITH RECURSIVE chain (org, up, depth) AS (
  SELECT sid, sid, 0 FROM delivered_orgs
  UNION ALL
  SELECT c.org, o.parent, c.depth + 1 FROM chain c JOIN delivered_orgs o ON o.sid = c.up
  WHERE o.org_type <> 'district' AND o.parent IS NOT NULL AND c.depth < 16
)
SELECT DISTINCT c.org FROM chain c JOIN delivered_orgs d ON d.sid = c.up AND d.org_type = 'district'
WHERE d.identifier IS DISTINCT FROM :district AND d.sid <> :district
  AND (SELECT count(DISTINCT sid) FROM delivered_orgs WHERE org_type = 'district') > 1
ORDER BY 1"""

DISTRICT_ORG = """
SELECT name FROM delivered_orgs WHERE org_type = 'district'
  AND (identifier = :district OR sid = :district
       OR (SELECT count(*) FROM delivered_orgs WHERE org_type = 'district') = 1)
ORDER BY identifier = :district DESC LIMIT 1"""


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
    # bulk work joins whole sets; right after a large load the table statistics still describe
    # the old table (and staged files have none) and would pick row-by-row nested loops or
    # sort-merges, so this transaction hashes instead
    session.execute(text("SET LOCAL enable_nestloop = off"))
    session.execute(text("SET LOCAL enable_mergejoin = off"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    # compiling these one-off statements to machine code costs more than it saves
    session.execute(text("SET LOCAL jit = off"))
    # every statement here reads whole tables: once a table passes min_parallel_table_scan_size
    # (8 MB), a parallel plan pays off, though with no statistics the planner cannot tell
    session.execute(text("SET LOCAL parallel_setup_cost = 0"))
    session.execute(text("SET LOCAL parallel_tuple_cost = 0"))
    others: list[str] = []
    if source.format == "csv":
        users_file = next(iter(delivery.members), "")
        mapping, kind, check_orgs = mapped_users(source, read_header(delivery, users_file)), "bulk", False
        create_work_table(session, "delivered_orgs", columns=NO_ORGS)
    else:
        users_file, mapping, kind, others = _stage_oneroster(session, delivery, source)
        check_orgs = True
    header = stage_file(session, delivery, users_file, "stage_users", numbered=True)
    if header.rows == 0 and kind == "bulk":
        raise DeliveryRejected("empty_bulk", f"the bulk {users_file} has a header but no rows")
    build_ingest_rows(session, source.district, mapping, ssid_pattern, header)
    shape = batch_shape(session)
    resolve_birth_dates(session, shape.changed)
    validate_rows(session, source.district, check_orgs, shape)
    active = find_deactivations(session, source.district, bulk=kind == "bulk", shape=shape)
    name = session.execute(text(DISTRICT_ORG), {"district": source.district}).scalar_one_or_none()
    return StagedDelivery(
        kind=kind,
        users_file=users_file,
        header=header.names,
        district_name=name,
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
    _stage_orgs(session, delivery, manifest.mode("orgs") is not None)
    others = list(session.execute(text(OTHER_DISTRICTS_ORGS), {"district": source.district}).scalars())
    users = read_header(delivery, "users.csv")
    mapping = users_mapping(source, manifest.version, users, demographics, roles, other_districts_orgs=others)
    return "users.csv", mapping, kind, others


def _stage_orgs(session: Session, delivery: Delivery, present: bool) -> None:
    if not present:
        create_work_table(session, "delivered_orgs", columns=NO_ORGS)
        return
    orgs: Header = stage_file(session, delivery, "orgs.csv", "stage_orgs")
    orgs.require("orgs.csv", "sourcedId", "type")
    columns = {
        "sid": orgs.column("x", "sourcedId"),
        "name": orgs.column("x", "name"),
        "type": orgs.column("x", "type"),
        "identifier": orgs.column("x", "identifier"),
        "parent": orgs.column("x", "parentSourcedId"),
    }
    create_work_table(session, "delivered_orgs", select=DELIVERED_ORGS.format(**columns))
