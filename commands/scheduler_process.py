"""The scheduler as `iisg scheduler` and `iisg serve` run it: the procedures' jobs on top of
the timers, and the safety interval the settings give."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from engine.scheduler.passes import TimerScheduler
from workflows.jobs.schedule import pass_jobs, periodic_jobs
from workflows.settings import ProcedureSettings


def procedure_scheduler(
    factory: sessionmaker[Session],
    settings: ProcedureSettings,
    *,
    blocking: bool = False,
    safety_interval: float | None = None,
) -> TimerScheduler:
    """A scheduler that fires timers and runs every job of the procedures (not started yet)."""
    return TimerScheduler(
        factory,
        safety_interval=safety_interval or settings.safety_interval_seconds,
        blocking=blocking,
        jobs=pass_jobs(settings),
        periodic=periodic_jobs(settings),
    )
