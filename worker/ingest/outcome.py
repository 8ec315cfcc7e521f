"""What a batch would do, counted before anything is written, and whether that calls for a hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from worker.ingest.rows import UNCHANGED, VALID_ACTIVE
from worker.ingest.stage import StagedDelivery
from worker.sql import compose

COUNTS = compose(
    """
SELECT
  count(*) AS rows_total,
  count(*) FILTER (WHERE {valid_active} AND existing_id IS NULL) AS inserted,
  count(*) FILTER (WHERE {valid_active} AND existing_id IS NOT NULL AND NOT ({unchanged})) AS updated,
  count(*) FILTER (WHERE {valid_active} AND existing_id IS NOT NULL AND {unchanged})
    + count(*) FILTER (WHERE is_student AND reason IS NULL AND status = 'tobedeleted'
                       AND existing_status IS DISTINCT FROM 'active') AS unchanged,
  count(*) FILTER (WHERE reason IS NOT NULL) AS quarantined,
  count(*) FILTER (WHERE NOT is_student AND reason IS NULL) AS ignored,
  count(*) FILTER (WHERE {valid_active}) AS valid_active
FROM ingest_rows r""",
    valid_active=VALID_ACTIVE,
    unchanged=UNCHANGED,
)

QUARANTINE_ENTRIES = """
SELECT row_number, reason, detail, nullif(sid, '') AS sid FROM ingest_rows
WHERE reason IS NOT NULL ORDER BY row_number LIMIT :limit"""

COUNT_KEYS = ("inserted", "updated", "unchanged", "deactivated", "quarantined", "ignored")


@dataclass(frozen=True)
class QuarantineEntry:
    file_name: str
    row_number: int
    reason_code: str
    detail: str | None
    sis_source_id: str | None


@dataclass(frozen=True)
class IngestPlan:
    """The outcome a delivery would have, computed without changing anything."""

    district_id: str
    kind: str | None
    counts: dict[str, int]
    rows_total: int = 0
    quarantined_rows: list[QuarantineEntry] = field(default_factory=list)
    hold_reason: str | None = None
    reject_reason: str | None = None

    @property
    def would_hold(self) -> bool:
        return self.hold_reason is not None


def count_outcomes(session: Session, staged: StagedDelivery) -> tuple[dict[str, int], int, int]:
    """Counts per outcome, rows in the file, and valid student rows that stay or become active."""
    deactivated = int(session.execute(text("SELECT count(*) FROM to_deactivate")).scalar_one())
    shape = staged.shape
    if shape.all_as_stored:  # every student row is unchanged: the first pass counted the rest
        counts = dict.fromkeys(COUNT_KEYS, 0) | {
            "unchanged": shape.students,
            "deactivated": deactivated,
            "ignored": shape.ignored,
            "quarantined": shape.quarantined,
        }
        return counts, shape.rows, shape.students
    row = session.execute(text(COUNTS)).mappings().one()
    counts = {key: int(row[key]) for key in COUNT_KEYS if key != "deactivated"}
    counts["deactivated"] = deactivated
    return counts, int(row["rows_total"]), int(row["valid_active"])


def hold_reason(
    counts: dict[str, int], *, active: int, valid_active: int, bulk: bool, share: float
) -> str | None:
    """A hold when the batch would deactivate more than SHARE of the district's ACTIVE SIS records, or
    when a bulk file carries that much fewer good student rows than the district has (mass quarantine)."""
    if active == 0:
        return None
    gone = counts["deactivated"]
    if gone > share * active:
        return f"would deactivate {gone} of {active} active SIS records ({gone / active:.1%} > {share:.0%})"
    shrink = active - valid_active
    if bulk and shrink > share * active:
        return (
            f"would shrink the district: {valid_active} good student rows for {active} active SIS records "
            f"({shrink / active:.1%} fewer > {share:.0%})"
        )
    return None


def quarantine_entries(session: Session, limit: int = 1000) -> list[QuarantineEntry]:
    rows = session.execute(text(QUARANTINE_ENTRIES), {"limit": limit}).all()
    return [QuarantineEntry("users.csv", r.row_number, r.reason, r.detail, r.sid) for r in rows]
