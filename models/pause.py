"""A district's sync pauses: blackout windows and a summer pause during which pulls are skipped
or held for review.

A window is two wall-clock times in the district's time zone, the end exclusive, stored without
a zone so that it keeps meaning "midnight local" whatever the zone's offset that day. It becomes
two instants only when it is compared with the clock: a time that a spring-forward gap skips
starts at the moment the clocks jump past it, and a time that the autumn's repeated hour shows
twice means its first occurrence (Python's `fold=0`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.settings import get_settings
from models.base import Base, BatchStatus, created_at_column, text_enum
from models.batch import Batch
from models.district import District

# the hold reason of a delivery registered while a hold pause was in force (or after one, while
# deliveries of it still wait): ops approve it (`ale-sync batches approve`) or reject it
PAUSE_HOLD_REASON = "sync_paused"


class PauseKind(enum.StrEnum):
    BLACKOUT = "blackout"  # a short window: testing week, a rollover night, a SIS upgrade
    SUMMER = "summer"  # between the last day of school and the next year's rosters


class PauseAction(enum.StrEnum):
    SKIP = "skip"  # the district's sources are not read; what waits is read when the window ends
    HOLD = "hold"  # deliveries are read and registered, but held for ops to approve or reject


class SyncPause(Base):
    __tablename__ = "sync_pauses"
    __table_args__ = (
        CheckConstraint("ends_local > starts_local", name="ends_after_start"),
        Index("ix_sync_pauses_district_id_ends_local", "district_id", "ends_local"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    kind: Mapped[PauseKind] = mapped_column(text_enum(PauseKind, "pause_kind"), nullable=False)
    action: Mapped[PauseAction] = mapped_column(text_enum(PauseAction, "pause_action"), nullable=False)
    starts_local: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    ends_local: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)  # exclusive
    note: Mapped[str | None] = mapped_column(Text)  # why, for ops and staff; never student data
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


@dataclass(frozen=True)
class PauseWindow:
    """One pause, read in its district's zone."""

    pause_id: int
    district_id: str
    kind: PauseKind
    action: PauseAction
    starts_local: datetime  # naive wall-clock times in ZONE, the end exclusive
    ends_local: datetime
    zone: ZoneInfo
    note: str | None = None

    @property
    def starts_at(self) -> datetime:
        return instant(self.starts_local, self.zone)

    @property
    def ends_at(self) -> datetime:
        return instant(self.ends_local, self.zone)

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def instant(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive wall-clock time in ZONE names (fold=0: see the module's note)."""
    return wall_clock.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class PauseState:
    """What pauses mean for a district's pulls at one moment."""

    in_force: PauseWindow | None
    upcoming: PauseWindow | None  # the next window to start, if any
    deliveries_held: int  # held by a pause and not yet decided by ops

    @property
    def skips_pulls(self) -> bool:
        return self.in_force is not None and self.in_force.action == PauseAction.SKIP

    @property
    def hold_reason(self) -> str | None:
        """Why a delivery registered now is held; after a hold window, deliveries keep being held
        while the window's own wait, so that none applies ahead of an older one."""
        holding = self.in_force is not None and self.in_force.action == PauseAction.HOLD
        return PAUSE_HOLD_REASON if holding or self.deliveries_held else None


def district_zone(session: Session, district_id: str) -> ZoneInfo:
    named = session.scalar(select(District.timezone).where(District.id == district_id))
    return ZoneInfo(named or get_settings().district_timezone)


def district_windows(
    session: Session, district_id: str, *, ending_after: datetime | None = None
) -> list[PauseWindow]:
    """The district's pauses in start order (only those ending after the instant ENDING_AFTER, if given)."""
    zone = district_zone(session, district_id)
    query = select(SyncPause).where(SyncPause.district_id == district_id)
    if ending_after is not None:
        # a day's margin covers any zone's offset; the exact test is in_force/ends_at
        local = ending_after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
        query = query.where(SyncPause.ends_local > local)
    rows = session.scalars(query.order_by(SyncPause.starts_local, SyncPause.id))
    return [
        PauseWindow(p.id, p.district_id, p.kind, p.action, p.starts_local, p.ends_local, zone, p.note)
        for p in rows
    ]


def pause_state(session: Session, district_id: str, now: datetime) -> PauseState:
    """The pause in force at NOW (the one ending last, if windows overlap), the next one, and the
    deliveries a pause holds."""
    windows = [w for w in district_windows(session, district_id, ending_after=now) if w.ends_at > now]
    current = [w for w in windows if w.in_force(now)]
    # a hold outranks a skip when windows overlap: it keeps what arrives instead of leaving it unread
    current.sort(key=lambda w: (w.action == PauseAction.HOLD, w.ends_at))
    upcoming = [w for w in windows if w.starts_at > now]
    held = session.scalar(
        select(func.count()).where(
            Batch.district_id == district_id,
            Batch.status == BatchStatus.HELD,
            Batch.hold_reason == PAUSE_HOLD_REASON,
        )
    )
    return PauseState(current[-1] if current else None, upcoming[0] if upcoming else None, int(held or 0))
