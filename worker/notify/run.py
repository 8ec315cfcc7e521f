"""One notification round, as the scheduled task and `ale-sync notifications send` run it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
    """Send the alerts due, and each district's digest of its day not yet sent, from the digest
    hour on in the district's own time zone (a registrar's morning, wherever the servers are)."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    alerts = send_alerts(engine, now, settings.no_delivery_alert_days)
    with transaction(engine) as session:
        districts = list(session.execute(select(District.id, District.timezone).order_by(District.id)))
    digests = 0
    for district_id, zone in districts:
        local = now.astimezone(ZoneInfo(zone))
        if local.hour >= settings.digest_hour:
            digests += send_district_digest(engine, district_id, local.date())
    return NotifyReport(alerts=alerts, digests=digests)
