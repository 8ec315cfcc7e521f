"""Alerts to a district's ops address: a batch held, rejected or failed, or no delivery for days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Batch, BatchStatus, District
from models.db import transaction
from worker.notify.ledger import send_once
from worker.notify.mail import Mail

ALERTED_STATUSES = (BatchStatus.HELD, BatchStatus.REJECTED, BatchStatus.FAILED)
# batches that finished longer ago than this are history, not news (a first start alerts on none)
ALERT_LOOKBACK = timedelta(days=2)
WHAT_TO_DO = {
    BatchStatus.HELD: "Nothing was applied. Decide with `ale-sync batches approve {id}` or `reject {id}`.",
    BatchStatus.REJECTED: "Nothing was applied. See `ale-sync batches show {id}`.",
    BatchStatus.FAILED: "Nothing was applied; the next pull tries again. See `ale-sync batches show {id}`.",
}


@dataclass(frozen=True)
class BatchAlert:
    batch_id: int
    district_id: str
    status: BatchStatus
    reason: str | None
    ops_email: str


def batch_alerts(session: Session, now: datetime) -> list[BatchAlert]:
    """Recent held, rejected and failed batches of districts that have an ops address."""
    rows = session.execute(
        select(Batch, District.ops_email)
        .join(District, District.id == Batch.district_id)
        .where(
            Batch.status.in_(ALERTED_STATUSES),
            Batch.finished_at >= now - ALERT_LOOKBACK,
            # a held batch that ops rejected themselves was alerted as held; their decision is no news
            Batch.decided_by.is_(None),
            District.ops_email.is_not(None),
        )
        .order_by(Batch.id)
    )
    return [
        BatchAlert(
            batch.id,
            batch.district_id,
            batch.status,
            batch.hold_reason or batch.reject_reason or batch.error,
            email,
        )
        for batch, email in rows
    ]


def batch_alert_mail(alert: BatchAlert) -> Mail:
    body = "\n".join(
        [
            f"Batch {alert.batch_id} of district {alert.district_id} is {alert.status}.",
            f"Reason: {alert.reason or 'not recorded'}",
            "",
            WHAT_TO_DO[alert.status].format(id=alert.batch_id),
        ]
    )
    return Mail(to=alert.ops_email, subject=f"ale-sync: batch {alert.batch_id} {alert.status}", body=body)


@dataclass(frozen=True)
class Silence:
    district_id: str
    last_batch_id: int | None
    since: datetime
    ops_email: str


def silent_districts(session: Session, now: datetime, days: int) -> list[Silence]:
    """Districts with an ops address whose SIS has sent nothing for DAYS days (or ever, since added)."""
    last = (
        select(
            Batch.district_id, func.max(Batch.id).label("batch_id"), func.max(Batch.received_at).label("at")
        )
        .group_by(Batch.district_id)
        .subquery()
    )
    since = func.coalesce(last.c.at, District.created_at)
    rows = session.execute(
        select(District.id, last.c.batch_id, since, District.ops_email)
        .outerjoin(last, last.c.district_id == District.id)
        .where(District.ops_email.is_not(None), since < now - timedelta(days=days))
        .order_by(District.id)
    )
    return [Silence(d, batch_id, at, email) for d, batch_id, at, email in rows]


def silence_mail(silence: Silence, days: int) -> Mail:
    last = f"the last was batch {silence.last_batch_id}" if silence.last_batch_id else "none has arrived yet"
    body = "\n".join(
        [
            f"District {silence.district_id} has received no SIS delivery for {days} day(s) or more "
            f"({last}, {silence.since:%Y-%m-%d %H:%M %Z}).",
            "",
            "Check the district's SIS export and `ale-sync sources --district " + silence.district_id + "`.",
        ]
    )
    return Mail(
        to=silence.ops_email, subject=f"ale-sync: no delivery from district {silence.district_id}", body=body
    )


def send_alerts(engine: Engine, now: datetime, silent_days: int) -> int:
    """Every alert not yet sent; how many were sent now."""
    with transaction(engine) as session:
        batches, silences = batch_alerts(session, now), silent_districts(session, now, silent_days)
    sent = 0
    for alert in batches:
        key = f"batch_{alert.status}:{alert.batch_id}"
        sent += send_once(engine, alert.district_id, f"batch_{alert.status}", key, batch_alert_mail(alert))
    for silence in silences:
        # once per silence: a new delivery starts a new one
        key = f"no_delivery:{silence.district_id}:{silence.last_batch_id or 0}"
        sent += send_once(engine, silence.district_id, "no_delivery", key, silence_mail(silence, silent_days))
    return sent
