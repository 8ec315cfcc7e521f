"""Transactional outbox: record follow-up work in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import OutboxEvent

# topics, and the task each one drives once published
BATCH_APPLIED = "batch_applied"  # payload: batch_id -> match the batch's district
CREATED_RECORD_SAVED = "created_record_saved"  # payload: created_record_id -> match that record
RECORD_LINKED = "record_linked"  # payload: created_record_id, sis_record_id, audit_id


def record_event(session: Session, topic: str, district_id: str | None, **payload: Any) -> OutboxEvent:
    """Add an event to the caller's transaction; it is published only if that transaction commits."""
    event = OutboxEvent(topic=topic, district_id=district_id, payload=payload)
    session.add(event)
    return event
