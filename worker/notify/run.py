"""One notification round, as the scheduled task and `ale-sync notifications send` run it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from config.settings import get_settings
from models import District
from models.db import transaction
from worker.notify.alerts import send_alerts
from worker.notify.digest import send_district_digest


@dataclass(frozen=True)
class NotifyReport:
    alerts: int
    digests: int


def notify_round(engine: Engine, now: datetime | None = None) -> NotifyReport:
    """Send the alerts due, and, from the digest hour on, today's digests not yet sent."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    alerts = send_alerts(engine, now, settings.no_delivery_alert_days)
    digests = 0
    if now.hour >= settings.digest_hour:
        with transaction(engine) as session:
            districts = list(session.scalars(select(District.id).order_by(District.id)))
        digests = sum(send_district_digest(engine, d, now.date()) for d in districts)
    return NotifyReport(alerts=alerts, digests=digests)
