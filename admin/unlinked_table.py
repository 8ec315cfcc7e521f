"""Link Student to ALE: the district's unlinked created records, each saying what it needs.

A row is in one state: held for a person (Needs review), a possible SIS match to check, no id
(search by name), or waiting for the SIS (it will link by itself). The table is filtered by
state, by the names typed in its search box, sorted by age, and read a page at a time with a
keyset cursor (the page's last creation time and id) from the unlinked index; only the page's
rows are then looked up in full. Counts per state come with every page.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.identifiers import mask_ssid
from admin.kept_counts import keep_counts, kept_counts
from admin.linking import SisSummary
from admin.name_query import any_reading_condition, words
from admin.paging import cursor_text, parse_cursor


class RowState(enum.StrEnum):
    HELD = "held"  # the id match waits for a person: Needs review
    SUGGESTED = "suggested"  # a possible SIS match to check
    NO_ID = "no_id"  # nothing to match on: search by name
    WAITING = "waiting"  # has an id; links by itself when the SIS sends the student


class Filter(enum.StrEnum):
    NEEDS_PERSON = "needs_person"
    HELD = "held"
    SUGGESTED = "suggested"
    NO_ID = "no_id"
    WAITING = "waiting"
    ALL = "all"


class Sort(enum.StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"


_HELD = "EXISTS (SELECT 1 FROM holds h WHERE h.created_record_id = s.id AND h.district_id = :d)"
_NOT_DISMISSED = (
    "NOT EXISTS (SELECT 1 FROM dismissed_suggestions x"
    " WHERE x.created_record_id = g.created_record_id AND x.sis_record_id = g.sis_record_id)"
)
# a suggestion for the record (alias s) that staff have not dismissed
_OPEN_SUGGESTION = f"g.created_record_id = s.id AND g.district_id = :d AND {_NOT_DISMISSED}"
_SUGGESTED = f"EXISTS (SELECT 1 FROM suggestions g WHERE {_OPEN_SUGGESTION})"
_IN_HOLDS = "s.id IN (SELECT h.created_record_id FROM holds h WHERE h.district_id = :d)"
_IN_SUGGESTIONS = (
    f"s.id IN (SELECT g.created_record_id FROM suggestions g WHERE g.district_id = :d AND {_NOT_DISMISSED})"
)
# written as the partial indexes' predicates, so that each state is read along its own index
_HAS_ID = "(s.ssid IS NOT NULL OR s.other_id IS NOT NULL)"
_NO_ID = "s.ssid IS NULL AND s.other_id IS NULL"
_STATE_SQL: dict[RowState, str] = {
    RowState.HELD: _IN_HOLDS,  # few: read from the holds
    RowState.SUGGESTED: f"{_IN_SUGGESTIONS} AND NOT {_HELD}",
    RowState.NO_ID: f"{_NO_ID} AND NOT {_HELD} AND NOT {_SUGGESTED}",
    RowState.WAITING: f"{_HAS_ID} AND NOT {_HELD} AND NOT {_SUGGESTED}",
}
# each filter as disjoint branches, each read in creation order along its own index and merged
BRANCHES: dict[Filter, list[str]] = {
    Filter.NEEDS_PERSON: [
        _STATE_SQL[RowState.HELD],
        _STATE_SQL[RowState.SUGGESTED],
        _STATE_SQL[RowState.NO_ID],
    ],
    Filter.HELD: [_STATE_SQL[RowState.HELD]],
    Filter.SUGGESTED: [_STATE_SQL[RowState.SUGGESTED]],
    Filter.NO_ID: [_STATE_SQL[RowState.NO_ID]],
    Filter.WAITING: [_STATE_SQL[RowState.WAITING]],
    Filter.ALL: ["TRUE"],
}
_UNLINKED = "s.district_id = :d AND s.origin = 'created' AND s.status = 'active'"
# with names typed: the records they find (a few hundred at most), each one's hold and open
# suggestion looked up in the district's, hashed once (a probe per record and per count cost 30 ms
# for 600 Nguyens, and walking a state's index in creation order for the names 10 ms)
_NAMED = f"""
WITH named AS MATERIALIZED (
  SELECT s.id, s.created_at, {_IN_HOLDS} AS held, {_IN_SUGGESTIONS} AS suggested, {_HAS_ID} AS has_id
  FROM students s WHERE {_UNLINKED} AND ({{names}}))
"""
# the page's ids and the counts per state in one statement: the counts' one row, the page beside it
_NAMED_PAGE = (
    _NAMED
    + """, counts AS (
  SELECT count(*) FILTER (WHERE held) AS held,
         count(*) FILTER (WHERE NOT held AND suggested) AS suggested,
         count(*) FILTER (WHERE NOT held AND NOT suggested AND NOT has_id) AS no_id,
         count(*) FILTER (WHERE NOT held AND NOT suggested AND has_id) AS waiting
  FROM named)
SELECT c.held, c.suggested, c.no_id, c.waiting, p.id, p.created_at
FROM counts c LEFT JOIN LATERAL (SELECT id, created_at FROM named s WHERE {where}{page}) p ON TRUE
ORDER BY p.created_at {direction}, p.id {direction}
"""
)
_NAMED_STATE: dict[Filter, str] = {
    Filter.NEEDS_PERSON: "(held OR suggested OR NOT has_id)",
    Filter.HELD: "held",
    Filter.SUGGESTED: "suggested AND NOT held",
    Filter.NO_ID: "NOT has_id AND NOT held AND NOT suggested",
    Filter.WAITING: "has_id AND NOT held AND NOT suggested",
    Filter.ALL: "TRUE",
}
# the whole table: two counts from the indexes alone, and the (few) held and suggested records
_COUNTS = f"""
WITH held AS (SELECT {_NO_ID} AS no_id FROM students s
               WHERE {_UNLINKED} AND {_STATE_SQL[RowState.HELD]}),
     suggested AS (SELECT {_NO_ID} AS no_id FROM students s
                    WHERE {_UNLINKED} AND {_STATE_SQL[RowState.SUGGESTED]})
SELECT (SELECT count(*) FROM students s WHERE {_UNLINKED}) AS total,
       (SELECT count(*) FROM students s WHERE {_UNLINKED} AND {_NO_ID}) AS without_ids,
       (SELECT count(*) FROM held) AS held, (SELECT count(*) FROM held WHERE no_id) AS held_no_id,
       (SELECT count(*) FROM suggested) AS suggested,
       (SELECT count(*) FROM suggested WHERE no_id) AS suggested_no_id
"""
_ROWS = f"""
SELECT s.id, s.first_name, s.last_name, s.ssid, s.other_id, s.created_at, s.had_learning_plan,
       s.birth_date, s.grade, s.school_id, sc.name AS school,
       st.name AS created_by, h.reason, h.candidate_sis_record_id, h.detail,
       (SELECT min(g.sis_record_id) FROM suggestions g WHERE {_OPEN_SUGGESTION}) AS suggested
FROM students s
LEFT JOIN staff st ON st.id = s.created_by_staff_id
LEFT JOIN schools sc ON sc.district_id = s.district_id AND sc.sis_source_id = s.school_id
LEFT JOIN holds h ON h.created_record_id = s.id AND h.district_id = :d
WHERE {_UNLINKED} AND s.id = ANY(CAST(:ids AS bigint[]))
"""


@dataclass(frozen=True)
class Pointed:
    """An SIS student a hold or a suggestion points at, and which of the record's ids it shares."""

    student: SisSummary
    shares: list[str]  # "SSID", "Other ID"


@dataclass(frozen=True)
class UnlinkedRow:
    created_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None
    created_by: str | None
    created_at: datetime
    has_plan: bool
    status: RowState
    hold_reason: str | None
    suggested_sis_record_id: int | None
    pointed_at: list[Pointed] = field(default_factory=list)  # the students the hold or suggestion names
    can_delete: bool = True  # False once a learning plan was ever started on the record
    birth_date: date | None = None  # as typed on the created record, when it was
    grade: str | None = None
    school_id: str | None = None
    school: str | None = None  # the school's name
    hold_rule: str | None = None  # the matching rule that held it (docs/matching.md), for its wording


@dataclass(frozen=True)
class TableQuery:
    state: Filter = Filter.NEEDS_PERSON
    sort: Sort = Sort.OLDEST
    names: str = ""  # the search box: words that begin the first or last name
    after: str | None = None  # the cursor of the row before the page
    before: str | None = None  # the cursor of the row after the page (going back)
    page_size: int = 50
    offset: int = 0  # the JSON API's page numbers: (page - 1) * page_size


@dataclass(frozen=True)
class UnlinkedPage:
    rows: list[UnlinkedRow]
    total: int  # records in the chosen state (and names)
    counts: dict[str, int]  # records per state (with the names), and needs_person / all
    page: int
    page_size: int
    state: Filter
    sort: Sort
    next_after: str | None
    previous_before: str | None
    # a large district's whole-table counts kept from a page this many seconds ago (admin/kept_counts.py)
    counts_age_seconds: int | None = None


def _names_condition(names: str) -> str:
    return f"({any_reading_condition(names)})" if words(names) else "TRUE"


class _Read:
    """Which way a page is read: its cursor's condition, the order, and the page from the rows."""

    def __init__(self, district_id: str, query: TableQuery) -> None:
        self.size = query.page_size
        self.backwards = query.before is not None and query.after is None
        descending = (query.sort is Sort.NEWEST) != self.backwards
        self.direction = "DESC" if descending else "ASC"
        self.order = f" ORDER BY created_at {self.direction}, id {self.direction}"
        self.params: dict[str, Any] = {"d": district_id}
        self.where: list[str] = []
        cursor = query.before if self.backwards else query.after
        if cursor:
            self.params["at"], self.params["id"] = parse_cursor(cursor)
            self.where.append(f"(s.created_at, s.id) {'<' if descending else '>'} (:at, :id)")
        self.offset = 0 if cursor else query.offset

    def page(self, found: list[Any]) -> tuple[list[Any], bool]:
        """The page in display order, and whether more rows lie beyond it in the direction read."""
        page = found[: self.size]
        return (list(reversed(page)) if self.backwards else page), len(found) > self.size


def _page_ids(session: Session, district_id: str, query: TableQuery) -> tuple[list[Any], bool]:
    """The page's ids: each branch of the filter read along its index in creation order, merged."""
    read = _Read(district_id, query)
    statement = _branches(query.state, [_UNLINKED, *read.where], read.order, read.size + 1, read.offset)
    return read.page(list(session.execute(text(statement), read.params).all()))


def _named_page(
    session: Session, district_id: str, query: TableQuery
) -> tuple[list[Any], bool, dict[str, int]]:
    """With names typed: the page's ids and the counts per state, from the records the names find
    (a few hundred at most), each given its state once, in one statement."""
    read = _Read(district_id, query)
    statement = _NAMED_PAGE.format(
        names=_names_condition(query.names),
        where=" AND ".join([_NAMED_STATE[query.state], *read.where]),
        page=f"{read.order} LIMIT {read.size + 1} OFFSET {read.offset}",
        direction=read.direction,
    )
    found = session.execute(text(statement), read.params).all()
    shown, more = read.page([r for r in found if r.id is not None])
    c = found[0]
    return (
        shown,
        more,
        _totalled({"held": c.held, "suggested": c.suggested, "no_id": c.no_id, "waiting": c.waiting}),
    )


def _branches(state: Filter, where: list[str], order: str, size: int, offset: int) -> str:
    read = "SELECT s.id, s.created_at FROM students s WHERE"
    limit = f"LIMIT {size + offset}"
    branches = [f"({read} {' AND '.join([*where, branch])}{order} {limit})" for branch in BRANCHES[state]]
    union = " UNION ALL ".join(branches)
    return f"SELECT id, created_at FROM ({union}) u{order} LIMIT {size} OFFSET {offset}"


def state_counts(session: Session, district_id: str) -> dict[str, int]:
    """Records per state (and needs a person, all) in the whole table."""
    c = session.execute(text(_COUNTS), {"d": district_id}).one()
    with_ids = c.total - c.without_ids
    return _totalled(
        {
            "held": c.held,
            "suggested": c.suggested,
            "no_id": c.without_ids - c.held_no_id - c.suggested_no_id,
            "waiting": with_ids - (c.held - c.held_no_id) - (c.suggested - c.suggested_no_id),
        }
    )


def _totalled(counts: dict[str, int]) -> dict[str, int]:
    counts[Filter.NEEDS_PERSON] = counts["held"] + counts["suggested"] + counts["no_id"]
    counts[Filter.ALL] = counts[Filter.NEEDS_PERSON] + counts["waiting"]
    return counts


# the SIS students holds and suggestions point at, as staff see them, with their ids to compare
_POINTED = """
SELECT s.id, s.first_name, s.last_name, s.ssid, s.other_id, s.birth_date, s.grade, sc.name AS school
FROM students s LEFT JOIN schools sc ON sc.district_id = s.district_id AND sc.sis_source_id = s.school_id
WHERE s.district_id = :d AND s.origin = 'sis' AND s.id = ANY(CAST(:ids AS bigint[]))
"""
# the whole table's ids and counts planned for this district's numbers on every call: their
# prepared statements' generic plans (psycopg prepares a statement after its fifth run) joined the
# holds to every unlinked record
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


def unlinked_page(session: Session, caller: Caller, query: TableQuery) -> UnlinkedPage:
    """One page of the table in the chosen state, sort and names, with the counts per state."""
    if words(query.names):  # one statement, whose plan for any district is as good as a custom one
        shown, more, counts = _named_page(session, caller.district_id, query)
        rows, age = page_rows(session, caller.district_id, [r.id for r in shown]), None
    else:
        session.execute(text(_CUSTOM_PLANS))
        shown, more = _page_ids(session, caller.district_id, query)
        rows = page_rows(session, caller.district_id, [r.id for r in shown])
        counts, age = _counts(session, caller.district_id)
    backwards = query.before is not None and query.after is None
    has_next = True if backwards else more
    has_previous = more if backwards else bool(query.after) or query.offset > 0
    return UnlinkedPage(
        rows=rows,
        total=counts[query.state],
        counts=counts,
        page=query.offset // query.page_size + 1,
        page_size=query.page_size,
        state=query.state,
        sort=query.sort,
        next_after=cursor_text(shown[-1].created_at, shown[-1].id) if has_next and shown else None,
        previous_before=cursor_text(shown[0].created_at, shown[0].id) if has_previous and shown else None,
        counts_age_seconds=age,
    )


def _counts(session: Session, district_id: str) -> tuple[dict[str, int], int | None]:
    """The whole table's counts per state, and their age when a large district's were kept from an
    earlier page."""
    kept = kept_counts(session, district_id)
    if kept is not None:
        return kept.counts, kept.age_seconds()
    counts = state_counts(session, district_id)
    keep_counts(session, district_id, counts)
    return counts, None


def page_rows(session: Session, district_id: str, ids: list[int]) -> list[UnlinkedRow]:
    """The rows for these records, in this order, with the students their hold or suggestion names."""
    if not ids:
        return []
    found = {r.id: r for r in session.execute(text(_ROWS), {"d": district_id, "ids": ids})}
    pointed = _pointed_at(session, district_id, list(found.values()))
    return [_row(found[i], pointed.get(i, [])) for i in ids if i in found]


def unlinked_row(session: Session, caller: Caller, created_record_id: int) -> UnlinkedRow | None:
    """One record's row (None once it is linked or deleted)."""
    rows = page_rows(session, caller.district_id, [created_record_id])
    return rows[0] if rows and rows[0] else None


def _row(r: Any, pointed: list[Pointed]) -> UnlinkedRow:
    if r.reason:
        state = RowState.HELD
    elif r.suggested is not None:
        state = RowState.SUGGESTED
    else:
        state = RowState.WAITING if (r.ssid or r.other_id) else RowState.NO_ID
    return UnlinkedRow(
        r.id, r.first_name, r.last_name, mask_ssid(r.ssid), r.other_id, r.created_by, r.created_at,
        r.had_learning_plan, state, str(r.reason) if r.reason else None, r.suggested, pointed,
        can_delete=not r.had_learning_plan, birth_date=r.birth_date, grade=r.grade, school_id=r.school_id,
        school=r.school, hold_rule=(r.detail or {}).get("rule") if r.reason else None,
    )  # fmt: skip


def _pointed_ids(r: Any) -> list[int]:
    if r.reason:
        listed = (r.detail or {}).get("candidate_ids") or []
        ids = [int(i) for i in listed] or ([r.candidate_sis_record_id] if r.candidate_sis_record_id else [])
        return sorted(set(ids), key=ids.index)
    return [r.suggested] if r.suggested is not None else []


def _pointed_at(session: Session, district_id: str, rows: list[Any]) -> dict[int, list[Pointed]]:
    wanted = {r.id: _pointed_ids(r) for r in rows}
    every = sorted({i for ids in wanted.values() for i in ids})
    found = {}
    if every:
        found = {s.id: s for s in session.execute(text(_POINTED), {"d": district_id, "ids": every})}
    return {r.id: [_pointed(r, found[i]) for i in wanted[r.id] if i in found] for r in rows}


def _pointed(record: Any, s: Any) -> Pointed:
    summary = SisSummary(s.id, s.first_name, s.last_name, mask_ssid(s.ssid), s.birth_date, s.grade, s.school)
    return Pointed(summary, _shares(record, s.ssid, s.other_id))


def _shares(record: Any, ssid: str | None, other_id: str | None) -> list[str]:
    shared = []
    if record.ssid and record.ssid == ssid:
        shared.append("SSID")
    if record.other_id and record.other_id == other_id:
        shared.append("Other ID")
    return shared
