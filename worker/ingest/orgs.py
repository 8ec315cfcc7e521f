"""A delivery's orgs.csv as working table delivered_orgs: its schools, the district's name, and
the orgs that belong to another district (a state or multi-district export)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.copy_in import stage_file
from worker.ingest.workspace import create_work_table
from worker.sources.columns import Header
from worker.sources.delivery import Delivery
from worker.sql import compose

# the staged orgs.csv (alias x), one row per org with a sourcedId the schools' key can hold (the
# students naming a longer one are quarantined, as their school is unknown or too long)
DELIVERED_ORGS = """
SELECT btrim({sid}) AS sid, coalesce(nullif(btrim({name}), ''), btrim({sid})) AS name,
  left(coalesce(nullif(lower(btrim({type})), ''), 'school'), 32) AS org_type,
  btrim({identifier}) AS identifier, nullif(btrim({parent}), '') AS parent
FROM stage_orgs x WHERE btrim(coalesce({sid}, '')) <> '' AND length(btrim({sid})) <= 255"""

NO_ORGS = "sid text, name text, org_type text, identifier text, parent text"

# the orgs that sit, through their parentSourcedId chain, under a district org other than this
# one. Their students belong to another district and are not taken in (counted as ignored),
# nor are those orgs.
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


def stage_orgs(session: Session, delivery: Delivery, present: bool) -> None:
    """Working table delivered_orgs from the delivery's orgs.csv (empty when it has none)."""
    if not present:
        create_work_table(session, "delivered_orgs", columns=NO_ORGS)
        return
    orgs: Header = stage_file(session, delivery, "orgs.csv", "stage_orgs")
    orgs.require("orgs.csv", "sourcedId", "type")
    select = compose(
        DELIVERED_ORGS,
        sid=orgs.column("x", "sourcedId"),
        name=orgs.column("x", "name"),
        type=orgs.column("x", "type"),
        identifier=orgs.column("x", "identifier"),
        parent=orgs.column("x", "parentSourcedId"),
    )
    create_work_table(session, "delivered_orgs", select=select)


def other_districts_orgs(session: Session, district_id: str) -> list[str]:
    return list(session.execute(text(OTHER_DISTRICTS_ORGS), {"district": district_id}).scalars())


def district_name(session: Session, district_id: str) -> str | None:
    """The district's name as its org row gives it (the only district org, or the one naming it)."""
    return session.execute(text(DISTRICT_ORG), {"district": district_id}).scalar_one_or_none()
