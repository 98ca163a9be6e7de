"""The jobs the procedures add to the scheduler: what `iisg scheduler` and `iisg serve` run.

Pass jobs run in every scheduler pass after the timers (reminders and escalations, recurring
starts, daily digests); periodic jobs run on their own interval (the mail sender).
"""

from __future__ import annotations

from engine.scheduler.passes import PassJob, Periodic
from workflows.jobs.recurring import recurring_job
from workflows.jobs.reminders import reminders_job
from workflows.mail.messages import digest_job, sender_job
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
