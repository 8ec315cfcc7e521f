"""The stored state as gauges, read from the database at each scrape.

Read at scrape time rather than counted by the processes that change it: the database is the one
place that knows it across every worker host, web process and CLI run, survives restarts, and a
scrape costs a few grouped reads over indexed columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.orm import Session

from models import Batch, HoldRow, LinkAudit, Origin, OutboxEvent, Student, StudentStatus, SuggestionRow
from models.db import transaction

# upper bounds, in days, of the age bands of waiting created records
AGE_BANDS = ((1, "under_1d"), (7, "1d_to_7d"), (30, "7d_to_30d"))
OLDEST_BAND = "30d_and_over"


def _unlinked() -> Any:
    return and_(Student.origin == Origin.CREATED, Student.status == StudentStatus.ACTIVE)


class DatabaseCollector(Collector):
    """Batches, links, holds, unlinked records and the outbox, per district, as the database has them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with transaction(self.engine) as session:
            now = session.execute(select(func.now())).scalar_one()
            yield _batches(session)
            yield _links(session)
            yield _holds(session)
            yield from _unlinked_metrics(session, now)
            yield from _outbox(session, now)
            yield _last_delivery(session, now)


FamilyT = TypeVar("FamilyT", GaugeMetricFamily, CounterMetricFamily)


def _grouped(session: Session, family: FamilyT, query: Any) -> FamilyT:
    for *labels, value in session.execute(query):
        family.add_metric([str(label) for label in labels], float(value))
    return family


def _batches(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "ale_sync_batches", "Batches in the ledger, by status.", labels=["district", "status"]
    )
    query = select(Batch.district_id, Batch.status, func.count()).group_by(Batch.district_id, Batch.status)
    return _grouped(session, family, query)


def _links(session: Session) -> CounterMetricFamily:
    family = CounterMetricFamily(
        "ale_sync_links", "Created records linked, by how.", labels=["district", "method", "actor"]
    )
    query = select(LinkAudit.district_id, LinkAudit.method, LinkAudit.actor_kind, func.count()).group_by(
        LinkAudit.district_id, LinkAudit.method, LinkAudit.actor_kind
    )
    return _grouped(session, family, query)


def _holds(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "ale_sync_holds",
        "Unlinked created records held for a person, by reason.",
        labels=["district", "reason"],
    )
    query = (
        select(HoldRow.district_id, HoldRow.reason, func.count())
        .join(
            Student, and_(Student.id == HoldRow.created_record_id, Student.district_id == HoldRow.district_id)
        )
        .where(_unlinked())
        .group_by(HoldRow.district_id, HoldRow.reason)
    )
    return _grouped(session, family, query)


def _state() -> Any:
    """held, suggested (a possible match is shown), waiting_for_sis (ids entered), needs_staff (no ids)."""
    held = select(HoldRow.created_record_id).where(HoldRow.created_record_id == Student.id).exists()
    suggested = select(SuggestionRow.id).where(SuggestionRow.created_record_id == Student.id).exists()
    has_id = Student.ssid.is_not(None) | Student.other_id.is_not(None)
    return case((held, "held"), (suggested, "suggested"), (has_id, "waiting_for_sis"), else_="needs_staff")


def _age_band(now: datetime) -> Any:
    age = func.extract("epoch", now - Student.created_at) / 86_400
    return case(*((age < days, band) for days, band in AGE_BANDS), else_=OLDEST_BAND)


def _unlinked_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    by_state = GaugeMetricFamily(
        "ale_sync_unlinked", "Created records waiting to be linked, by state.", labels=["district", "state"]
    )
    state = _state().label("state")
    yield _grouped(
        session,
        by_state,
        select(Student.district_id, state, func.count())
        .where(_unlinked())
        .group_by(Student.district_id, state),
    )
    by_age = GaugeMetricFamily(
        "ale_sync_unlinked_by_age",
        "Created records waiting to be linked, by how long.",
        labels=["district", "age"],
    )
    band = _age_band(now).label("age")
    yield _grouped(
        session,
        by_age,
        select(Student.district_id, band, func.count())
        .where(_unlinked())
        .group_by(Student.district_id, band),
    )
    oldest = GaugeMetricFamily(
        "ale_sync_unlinked_oldest_age_seconds",
        "Age of the oldest created record waiting to be linked.",
        labels=["district"],
    )
    age = func.extract("epoch", now - func.min(Student.created_at))
    yield _grouped(
        session, oldest, select(Student.district_id, age).where(_unlinked()).group_by(Student.district_id)
    )


def _outbox(session: Session, now: datetime) -> Iterator[Metric]:
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
    ).one()
    yield GaugeMetricFamily(
        "ale_sync_outbox_unpublished", "Outbox events not yet sent to the worker.", value=count
    )
    age = 0.0 if oldest is None else (now - oldest).total_seconds()
    yield GaugeMetricFamily(
        "ale_sync_outbox_oldest_unpublished_age_seconds",
        "Age of the oldest outbox event not yet sent (0 when none waits).",
        value=age,
    )


def _last_delivery(session: Session, now: datetime) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "ale_sync_last_delivery_age_seconds",
        "Time since the district's newest SIS delivery arrived.",
        labels=["district"],
    )
    age = func.extract("epoch", now - func.max(Batch.received_at))
    return _grouped(session, family, select(Batch.district_id, age).group_by(Batch.district_id))
