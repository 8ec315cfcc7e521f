"""Each notification goes out once: its ledger row and its sending share one transaction.

The row is inserted first (ON CONFLICT DO NOTHING): a second sender of the same key, in another
worker or after a restart, waits on the unique key until the first commits and then finds it
taken. A failed send rolls the row back, so the next run tries again. Only a crash between the
server accepting the mail and the commit can send it twice, never lose it.
"""

from __future__ import annotations

import smtplib

import structlog
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert

from models import SentNotification
from models.db import transaction
from worker.notify.mail import Mail, send_mail

logger = structlog.get_logger(__name__)


def send_once(engine: Engine, district_id: str, kind: str, key: str, mail: Mail) -> bool:
    """Send MAIL unless a notification with KEY was sent already; True when it was sent now.

    A mail the server refuses (or a server that cannot be reached) is logged and left for the
    next round, so one bad address never stops the others.
    """
    try:
        with transaction(engine) as session:
            claimed = session.scalar(
                insert(SentNotification)
                .values(district_id=district_id, kind=kind, key=key, recipient=mail.to)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(SentNotification.id)
            )
            if claimed is None:
                return False
            send_mail(mail)
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("notification_failed", district_id=district_id, kind=kind, error=type(error).__name__)
        return False
    logger.info("notification_sent", district_id=district_id, kind=kind, notification_id=claimed)
    return True
