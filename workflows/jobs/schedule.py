"""The jobs the procedures add to the scheduler: what `iisg scheduler` and `iisg serve` run.

Pass jobs run in every scheduler pass after the timers (reminders and escalations, recurring
starts, daily digests); periodic jobs run on their own interval (the mail sender). The
scheduler the processes run is the engine's, with these jobs on top.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from engine.scheduler.passes import PassJob, Periodic, TimerScheduler
from workflows.jobs.recurring import recurring_job
from workflows.jobs.reminders import reminders_job
from workflows.mail.digest import digest_job
from workflows.mail.sender import sender_job
from workflows.settings import ProcedureSettings


def pass_jobs(settings: ProcedureSettings) -> list[PassJob]:
    """The jobs every pass runs, in order."""
    jobs: list[PassJob] = [
        recurring_job(settings),
        reminders_job(settings),
        digest_job(settings.mail),
    ]
    return jobs


def periodic_jobs(settings: ProcedureSettings) -> list[Periodic]:
    """The jobs that run on their own interval."""
    periodic: list[Periodic] = [sender_job(settings.mail)]
    return periodic


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
