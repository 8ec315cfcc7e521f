"""The one merge path: every link, automatic or by staff, is applied by `link_created_records`.

In the caller's transaction it row-locks the created records (so two workers racing on one
record serialise, and the second sees it merged), re-checks each is still active and unlinked
and that its SIS record is active and not contradicted by the other id, moves every learning
plan, retires the created record, and writes the link audit row, the staff audit log row and a
`record_linked` outbox event. All set-based, so a district pass links thousands at once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.vocabulary import LinkMethod, Topic
from matching.refusals import Refusal, RefusalCode
from models import LearningPlan, Student
from models.outbox import record_events

logger = structlog.get_logger(__name__)

# the id that must not contradict, by how the SIS record was found
_CROSS_CHECKED: dict[LinkMethod, tuple[str, ...]] = {
    LinkMethod.SSID: ("other_id",),
    LinkMethod.MANUAL_SSID: ("other_id",),
    LinkMethod.OTHER_ID: ("ssid",),
    LinkMethod.MANUAL_OTHER_ID: ("ssid",),
    LinkMethod.NAME_SEARCH: ("ssid", "other_id"),
}


@dataclass(frozen=True)
class LinkRequest:
    created_record_id: int
    sis_record_id: int
    method: LinkMethod
    # a staff link confirmed although the evidence disagreed: what it said ({"fields", "rule", "weight"})
    against_evidence: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LinkOutcome:
    """The link as it stands: the same pair linked before answers `already_linked` with its audit row."""

    created_record_id: int
    sis_record_id: int
    audit_id: int
    plans_moved: int
    already_linked: bool


def link_created_record(
    session: Session,
    *,
    district_id: str,
    created_record_id: int,
    sis_record_id: int,
    method: LinkMethod,
    actor_staff_id: int | None = None,
    batch_id: int | None = None,
    against_evidence: Mapping[str, Any] | None = None,
) -> LinkOutcome:
    """Link one created record to one SIS record; the same pair again changes nothing."""
    request = LinkRequest(created_record_id, sis_record_id, LinkMethod(method), against_evidence)
    result = link_created_records(
        session, district_id=district_id, requests=[request], actor_staff_id=actor_staff_id, batch_id=batch_id
    )[created_record_id]
    if isinstance(result, Refusal):
        raise result
    return result


def link_created_records(
    session: Session,
    *,
    district_id: str,
    requests: Sequence[LinkRequest],
    actor_staff_id: int | None = None,
    batch_id: int | None = None,
) -> dict[int, LinkOutcome | Refusal]:
    """Apply many links in one go; each created record gets its outcome or its refusal."""
    session.flush()  # the caller's pending ORM changes reach the rows this locks and rewrites
    unique = list({r.created_record_id: r for r in reversed(requests)}.values())
    created = _lock_created(session, district_id, [r.created_record_id for r in unique])
    sis = _share_sis(session, district_id, [r.sis_record_id for r in unique])
    results: dict[int, LinkOutcome | Refusal] = {}
    to_apply: list[LinkRequest] = []
    for request in unique:
        locked, target = created.get(request.created_record_id), sis.get(request.sis_record_id)
        if locked is not None and target is not None and locked.merged_into_id == target.id:
            results[request.created_record_id] = LinkOutcome(
                request.created_record_id, request.sis_record_id, locked.audit_id, 0, True
            )
        elif (code := _refusal(request, locked, target)) is not None:
            results[request.created_record_id] = Refusal(code, request.created_record_id)
        else:
            to_apply.append(request)
    if to_apply:
        results.update(_apply(session, district_id, to_apply, actor_staff_id, batch_id))
        _expire_touched(
            session, {r.created_record_id for r in to_apply} | {r.sis_record_id for r in to_apply}
        )
    return results


def _expire_touched(session: Session, student_ids: set[int]) -> None:
    """The statements above bypass the ORM: reload the caller's copies of what they changed."""
    for obj in list(session.identity_map.values()):
        touched = (isinstance(obj, Student) and obj.id in student_ids) or (
            isinstance(obj, LearningPlan) and obj.student_id in student_ids
        )
        if touched:
            session.expire(obj)


def _lock_created(session: Session, district_id: str, ids: list[int]) -> dict[int, Any]:
    # ORDER BY id: concurrent passes lock rows in one order, so they cannot deadlock
    # a merged record's link audit row comes along: the merge writes both in one transaction
    rows = session.execute(
        text(
            "SELECT id, status, merged_into_id, ssid, other_id, CASE WHEN status = 'merged' THEN"
            " (SELECT a.id FROM link_audit a WHERE a.district_id = :d AND a.created_record_id = students.id)"
            " END AS audit_id"
            " FROM students WHERE district_id = :d AND origin = 'created' AND id = ANY(:ids)"
            " ORDER BY id FOR UPDATE OF students"
        ),
        {"d": district_id, "ids": ids},
    )
    return {row.id: row for row in rows}


def _share_sis(session: Session, district_id: str, ids: list[int]) -> dict[int, Any]:
    # an ingest cannot deactivate the SIS record under a link in flight; NO KEY UPDATE rather than
    # SHARE because moving a plan updates this row (its had-a-plan flag), and two links into one
    # SIS record that both held SHARE would deadlock upgrading it
    rows = session.execute(
        text(
            "SELECT id, status, ssid, other_id FROM students"
            " WHERE district_id = :d AND origin = 'sis' AND id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"
        ),
        {"d": district_id, "ids": sorted(set(ids))},
    )
    return {row.id: row for row in rows}


def _refusal(request: LinkRequest, created: Any, sis: Any) -> RefusalCode | None:
    """Why this link must not be applied now, or None (the same pair again is not asked here)."""
    if created is None:
        return RefusalCode.CREATED_RECORD_NOT_FOUND
    if sis is None:
        return RefusalCode.SIS_RECORD_NOT_FOUND
    if created.status != "active":
        return RefusalCode.ALREADY_LINKED_ELSEWHERE if created.status == "merged" else RefusalCode.NOT_ACTIVE
    if sis.status != "active":
        return RefusalCode.SIS_RECORD_INACTIVE
    return RefusalCode.IDS_CONTRADICT if ids_contradict(request.method, created, sis) else None


def ids_contradict(method: LinkMethod, created: Any, sis: Any) -> bool:
    """The id not used to find the SIS record is on both records and differs."""
    pairs = ((getattr(created, field), getattr(sis, field)) for field in _CROSS_CHECKED[method])
    return any(mine is not None and theirs is not None and mine != theirs for mine, theirs in pairs)


_PAIRS = "unnest(CAST(:created AS bigint[]), CAST(:sis AS bigint[])) AS m(created_id, sis_id)"

# the SIS records about to receive a plan, marked as used in one statement: the learning-plan
# trigger, which marks each moved plan's record one row at a time, then finds the mark already
# there and writes nothing (45,000 plans at a million records: moving them with the trigger's
# updates 3.3-3.5 s; this statement 1.9 s and the move 0.7 s; alternated in one kept database)
_MARK_USED = (
    "UPDATE students s SET had_learning_plan = true FROM (SELECT DISTINCT m.sis_id FROM "
    + _PAIRS
    + " JOIN learning_plans lp ON lp.district_id = :d AND lp.student_id = m.created_id) AS used"
    " WHERE s.district_id = :d AND s.id = used.sis_id AND NOT s.had_learning_plan"
)

# every plan of the created record follows it
_MOVE_PLANS = (
    "UPDATE learning_plans lp SET student_id = m.sis_id FROM " + _PAIRS + " WHERE lp.district_id = :d"
    " AND lp.student_id = m.created_id RETURNING m.created_id"
)

_RETIRE = (
    "UPDATE students s SET status = 'merged', merged_into_id = m.sis_id, merged_at = now() FROM "
    + _PAIRS
    + " WHERE s.district_id = :d AND s.id = m.created_id",
    "DELETE FROM holds WHERE district_id = :d AND created_record_id = ANY(CAST(:created AS bigint[]))",
    "DELETE FROM suggestions WHERE district_id = :d AND created_record_id = ANY(CAST(:created AS bigint[]))",
)

_AUDIT = """
WITH m AS (
  SELECT * FROM unnest(CAST(:created AS bigint[]), CAST(:sis AS bigint[]), CAST(:methods AS text[]),
                       CAST(:plans AS int[]), CAST(:against AS text[]))
    AS m(created_id, sis_id, method, plans, against)
), audit AS (
  INSERT INTO link_audit (district_id, created_record_id, sis_record_id, method, actor_kind, actor_staff_id,
                          batch_id, plans_moved, against_evidence)
  SELECT :d, created_id, sis_id, method, :actor_kind, :staff, :batch, plans, CAST(against AS jsonb) FROM m
  RETURNING id, created_record_id, sis_record_id, method, plans_moved, against_evidence
), logged AS (
  INSERT INTO audit_log (district_id, actor_kind, actor_staff_id, action, student_id, batch_id, detail)
  SELECT :d, :actor_kind, :staff, 'link', created_record_id, :batch,
         jsonb_strip_nulls(jsonb_build_object(
           'sis_record_id', sis_record_id, 'method', method, 'plans_moved', plans_moved, 'link_audit_id', id,
           'against_evidence', against_evidence))
  FROM audit
)
SELECT created_record_id, sis_record_id, id, plans_moved, against_evidence IS NOT NULL AS against FROM audit
"""


def _event(row: Any) -> dict[str, Any]:
    """The record_linked payload: ids, and a flag on a link staff confirmed against the evidence."""
    event = {"created_record_id": row[0], "sis_record_id": row[1], "audit_id": row[2]}
    return {**event, "against_evidence": True} if row[4] else event


def _apply(
    session: Session,
    district_id: str,
    requests: list[LinkRequest],
    actor_staff_id: int | None,
    batch_id: int | None,
) -> dict[int, LinkOutcome | Refusal]:
    pairs = {
        "d": district_id,
        "created": [r.created_record_id for r in requests],
        "sis": [r.sis_record_id for r in requests],
    }
    session.execute(text(_MARK_USED), pairs)
    moved = Counter(row[0] for row in session.execute(text(_MOVE_PLANS), pairs))
    for statement in _RETIRE:
        session.execute(text(statement), pairs)
    rows = session.execute(
        text(_AUDIT),
        {
            **pairs,
            "methods": [str(r.method) for r in requests],
            "plans": [moved[r.created_record_id] for r in requests],
            "against": [json.dumps(r.against_evidence) if r.against_evidence else None for r in requests],
            "actor_kind": "system" if actor_staff_id is None else "staff",
            "staff": actor_staff_id,
            "batch": batch_id,
        },
    ).all()
    record_events(session, Topic.RECORD_LINKED, district_id, [_event(row) for row in rows])
    outcomes: dict[int, LinkOutcome | Refusal] = {
        c: LinkOutcome(c, s, a, plans, False) for c, s, a, plans, _ in rows
    }
    logger.info("created_records_linked", district_id=district_id, links=len(outcomes), batch_id=batch_id)
    return outcomes
