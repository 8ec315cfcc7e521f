"""SQLAlchemy models, engine and session handling, and the Alembic migrations."""

from matching.core.vocabulary import HoldReason, LinkMethod, SuggestionKind, Topic
from models.app_secret import AppSecret
from models.base import (
    AuditAction,
    Base,
    BatchKind,
    BatchStatus,
    Origin,
    PlanStatus,
    StaffRole,
    StudentStatus,
)
from models.batch import Batch, QuarantinedRow
from models.district import District, School
from models.linking import DismissedSuggestion, HoldRow, LinkAudit, SuggestionRow
from models.notification import SentNotification
from models.outbox import OutboxEvent
from models.pause import PauseAction, PauseKind, SyncPause
from models.plan import LearningPlan
from models.sign_in import IdentityProvider, SignInAttempt, StaffSession
from models.source_state import SeenFile, SourceState
from models.staff import AuditEntry, Staff
from models.student import Student

__all__ = [
    "AppSecret",
    "AuditAction",
    "AuditEntry",
    "Base",
    "Batch",
    "BatchKind",
    "BatchStatus",
    "DismissedSuggestion",
    "District",
    "HoldReason",
    "HoldRow",
    "IdentityProvider",
    "LearningPlan",
    "LinkAudit",
    "LinkMethod",
    "Origin",
    "OutboxEvent",
    "PauseAction",
    "PauseKind",
    "PlanStatus",
    "QuarantinedRow",
    "School",
    "SeenFile",
    "SentNotification",
    "SignInAttempt",
    "SourceState",
    "Staff",
    "StaffRole",
    "StaffSession",
    "Student",
    "StudentStatus",
    "SuggestionKind",
    "SuggestionRow",
    "SyncPause",
    "Topic",
]
