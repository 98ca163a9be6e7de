"""Recurring starts: the annual response mapping and the biennial needs mapping, on schedule.

A scheduler pass job. Each schedule (settings) has periods of one or more years; a period
begins on its day and hour. When a period has begun and its procedure has not been started
for it, it is started, once: the `recurring_start` row (unique per schedule and period) is
written first in the same unit of work as the start, so a second scheduler, or the same one
after a restart, finds it and starts nothing. If the system was down when a period began, the
procedure starts at the next pass; periods that ended before then are not started late.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import audit
from engine.errors import EngineError
from engine.instances.steps import active_definition, start_instance
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import JobOutcome, PassJob
from models import RecurringStart
from workflows.settings import ProcedureSettings, RecurringSchedule

log = logging.getLogger("iisg.recurring")


class RecurringStartFailed(RuntimeError):
    """A scheduled procedure could not be started; the message says which and why."""


def period_begins(schedule: RecurringSchedule, year: int) -> datetime:
    """When the period that begins in `year` begins."""
    return datetime(year, schedule.month, schedule.day, schedule.hour_utc, tzinfo=UTC)


def current_period(schedule: RecurringSchedule, now: datetime) -> int | None:
    """The first year of the period running at `now` (None before the first one)."""
    year = now.astimezone(UTC).year
    while year >= schedule.first_year:
        if (year - schedule.first_year) % schedule.every_years == 0 and period_begins(
            schedule, year
        ) <= now:
            return year
        year -= 1
    return None


def next_period(schedule: RecurringSchedule, now: datetime) -> datetime:
    """When the next period after `now` begins."""
    current = current_period(schedule, now)
    year = schedule.first_year if current is None else current + schedule.every_years
    while period_begins(schedule, year) <= now:
        year += schedule.every_years
    return period_begins(schedule, year)


def period_label(schedule: RecurringSchedule, year: int) -> str:
    """The period as people say it: '2027' or '2027-2028'."""
    if schedule.every_years == 1:
        return str(year)
    return f"{year}-{year + schedule.every_years - 1}"


def _start(session: Session, schedule: RecurringSchedule, year: int, now: datetime) -> int | None:
    label = period_label(schedule, year)
    if session.scalar(
        select(RecurringStart.id).where(
            RecurringStart.schedule == schedule.name, RecurringStart.period == label
        )
    ):
        return None
    # The row first: a second scheduler blocks or fails on it before doing any work.
    record = RecurringStart(schedule=schedule.name, period=label, started_at=now)
    session.add(record)
    session.flush()
    data: dict[str, object] = {schedule.year_field: year} if schedule.year_field else {}
    name = active_definition(session, schedule.process_key).name
    instance = start_instance(
        session,
        schedule.process_key,
        data,
        actor="scheduler",
        now=now,
        title=f"{name}: {label}",
        business_key=f"{schedule.name}:{label}",
    )
    record.instance_id = instance.id
    audit.record(
        session,
        kind="recurring.started",
        actor="scheduler",
        now=now,
        instance_id=instance.id,
        payload={"schedule": schedule.name, "period": label, "process": schedule.process_key},
    )
    return instance.id


def start_due(
    factory: sessionmaker[Session], schedules: tuple[RecurringSchedule, ...], now: datetime
) -> JobOutcome:
    """Start every schedule's current period that has not been started; when next to look."""
    started = 0
    failures: list[str] = []
    upcoming: list[datetime] = []
    for schedule in schedules:
        if not schedule.enabled:
            continue
        upcoming.append(next_period(schedule, now))
        year = current_period(schedule, now)
        if year is None:
            continue

        def work(
            session: Session, schedule: RecurringSchedule = schedule, year: int = year
        ) -> int | None:
            return _start(session, schedule, year, now)

        try:
            if run_in_transaction(factory, work) is not None:
                started += 1
                log.info("started %s for %s", schedule.process_key, period_label(schedule, year))
        except IntegrityError:
            continue  # another scheduler started it at this very moment
        except EngineError as err:
            failures.append(
                f"the {schedule.name.replace('_', ' ')} for {period_label(schedule, year)} "
                f"could not start: {err}"
            )
    if failures:
        # Reported on the pass record and in the log; the next pass tries again.
        raise RecurringStartFailed("; ".join(failures))
    return JobOutcome(done=started, next_due=min(upcoming) if upcoming else None)


def recurring_job(settings: ProcedureSettings) -> PassJob:
    """The pass job starting the scheduled procedures."""

    def start_recurring(factory: sessionmaker[Session], now: datetime) -> JobOutcome:
        return start_due(factory, settings.recurring, now)

    return start_recurring
