"""How the scheduler stands: the timers waiting next, the last passes, whether one runs.

Read by `iisg scheduler status` and by `/health`; it only reads, so any process may ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ProcessInstance, SchedulerPass, Timer

# A scheduler passes at least once per safety interval; missing three in a row means none runs.
MISSED_PASSES = 3


@dataclass(frozen=True)
class WaitingTimer:
    """One timer waiting to fire, with the procedure it belongs to."""

    due_at: datetime
    instance_id: int
    process_key: str
    bpmn_id: str


@dataclass(frozen=True)
class PassRecord:
    """One recorded scheduler pass."""

    worker: str
    started_at: datetime
    finished_at: datetime
    fired: int
    failed: int
    other: int
    error: str | None

    @property
    def duration(self) -> timedelta:
        """How long the pass took."""
        return self.finished_at - self.started_at


@dataclass(frozen=True)
class SchedulerStatus:
    """The scheduler as the database shows it at one moment."""

    now: datetime
    next_timers: list[WaitingTimer]
    waiting: int
    passes: list[PassRecord]
    alive: bool
    # How recent a pass must be for a scheduler to count as alive.
    alive_within: timedelta

    @property
    def last_pass(self) -> PassRecord | None:
        """The pass that finished last, if any was recorded."""
        return max(self.passes, key=lambda p: p.finished_at, default=None)


def _next_timers(session: Session, limit: int) -> list[WaitingTimer]:
    rows = session.execute(
        select(Timer.due_at, Timer.instance_id, ProcessInstance.process_key, Timer.bpmn_id)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
    ).all()
    return [WaitingTimer(*row) for row in rows]


def _last_passes(session: Session, limit: int) -> list[PassRecord]:
    rows = session.scalars(
        select(SchedulerPass)
        .order_by(SchedulerPass.started_at.desc(), SchedulerPass.id.desc())
        .limit(limit)
    ).all()
    return [
        PassRecord(
            worker=row.worker,
            started_at=row.started_at,
            finished_at=row.finished_at,
            fired=row.fired,
            failed=row.failed,
            other=row.other,
            error=row.error,
        )
        for row in rows
    ]


def scheduler_status(
    session: Session,
    now: datetime,
    *,
    safety_interval_seconds: float,
    timers: int = 10,
    passes: int = 10,
) -> SchedulerStatus:
    """The next `timers` due timers, how many wait in all, the last `passes` passes, and
    whether a scheduler looks alive (a pass finished within three safety intervals)."""
    alive_within = timedelta(seconds=MISSED_PASSES * safety_interval_seconds)
    recent = _last_passes(session, passes)
    last_finished = max((p.finished_at for p in recent), default=None)
    return SchedulerStatus(
        now=now,
        next_timers=_next_timers(session, timers),
        waiting=session.scalar(select(func.count()).select_from(Timer)) or 0,
        passes=recent,
        alive=last_finished is not None and now - last_finished <= alive_within,
        alive_within=alive_within,
    )
