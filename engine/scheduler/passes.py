"""The scheduler: wakes at the earliest due timer, fires it exactly once, catches up on start.

Each instance's due timers fire in their own unit of work. Exactly once across several
scheduler processes: the timer rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and
the instance's optimistic lock refuses a second save of the same state; a process killed
mid-firing commits nothing, so the timer stays for the next pass.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from engine import audit, clock
from engine.errors import EngineError
from engine.instances import timer_events
from engine.instances.steps import due_instances, earliest_due_timer, fire_due_timers
from engine.instances.unit_of_work import run_in_transaction
from models import ProcessInstance, SchedulerPass

log = logging.getLogger("iisg.scheduler")
_WAKE_JOB = "iisg-wake-at-due-timer"
_SAFETY_JOB = "iisg-safety-net"
_RETRY_PAUSE = timedelta(milliseconds=200)
# Pass records older than this are pruned; `iisg scheduler status` shows the latest ones.
_KEEP_PASSES = timedelta(days=7)


def worker_name() -> str:
    """This process, as pass records name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobOutcome:
    """What a pass job did (a count) and when it next has something to do."""

    done: int = 0
    next_due: datetime | None = None


# A job the procedures add to every pass (reminders, recurring starts, digests): given the
# session factory and the pass's moment, it does what is due, each in its own unit of work,
# exactly once across processes, and says when it next has work.
PassJob = Callable[[sessionmaker[Session], datetime], JobOutcome]
# A job run on its own interval, outside the passes (the mail sender): returns a count.
PeriodicJob = Callable[[sessionmaker[Session], datetime], int]


@dataclass(frozen=True)
class Periodic:
    """A periodic job and how often it runs."""

    name: str
    job: PeriodicJob
    seconds: float


@dataclass
class PassResult:
    """What one pass did: timers fired per instance, instances that failed, the next due time."""

    fired: dict[int, list[str]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    next_due: datetime | None = None
    other: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def fired_count(self) -> int:
        """How many timers fired."""
        return sum(len(v) for v in self.fired.values())


def _mark_failed(
    factory: sessionmaker[Session], instance_id: int, reason: str, now: datetime
) -> None:
    def work(session: Session) -> None:
        row = session.get(ProcessInstance, instance_id)
        if row is None or row.status != "running":
            return
        row.status = "error"
        row.error = reason
        row.updated_at = now
        audit.record(
            session,
            kind="instance.failed",
            actor="scheduler",
            now=now,
            instance_id=instance_id,
            payload={"reason": reason},
        )

    run_in_transaction(factory, work)


def _fire(session: Session, *, instance_id: int, now: datetime) -> list[str]:
    return fire_due_timers(session, instance_id, now)


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def _record_pass(
    factory: sessionmaker[Session], worker: str, started: datetime, result: PassResult
) -> None:
    def work(session: Session) -> None:
        finished = clock.now()
        session.add(
            SchedulerPass(
                worker=worker,
                started_at=started,
                finished_at=max(finished, started),
                fired=result.fired_count,
                failed=len(result.failed),
                other=result.other,
                error="; ".join(result.errors) or None,
            )
        )
        session.execute(
            delete(SchedulerPass).where(SchedulerPass.started_at < started - _KEEP_PASSES)
        )

    try:
        run_in_transaction(factory, work)
    except Exception:  # the record is for watching; it never stops the scheduler
        log.exception("could not record the scheduler pass")


def run_pass(
    factory: sessionmaker[Session],
    now: datetime | None = None,
    batch: int = 100,
    *,
    jobs: Sequence[PassJob] = (),
    worker: str | None = None,
) -> PassResult:
    """Fire every timer due at `now` (default: the clock's now), the longest overdue first;
    then run the procedures' pass jobs; record the pass for `iisg scheduler status`."""
    moment = now or clock.now()
    result = PassResult()
    _fire_timers(factory, moment, batch, result)
    with factory() as session:
        result.next_due = earliest_due_timer(session)
    for job in jobs:
        try:
            outcome = job(factory, moment)
        except Exception as err:  # one job failing must not stop timers or the other jobs
            log.exception("scheduler job %s failed", getattr(job, "__name__", job))
            result.errors.append(f"{getattr(job, '__name__', 'job')}: {err}")
            continue
        result.other += outcome.done
        result.next_due = _earliest(result.next_due, outcome.next_due)
    _record_pass(factory, worker or worker_name(), moment, result)
    return result


def _fire_timers(
    factory: sessionmaker[Session], moment: datetime, batch: int, result: PassResult
) -> None:
    while True:
        with factory() as session:
            instance_ids = [
                i
                for i in due_instances(session, moment, batch)
                if i not in result.fired and i not in result.failed
            ]
        if not instance_ids:
            break
        for instance_id in instance_ids:
            try:
                fired = run_in_transaction(
                    factory, partial(_fire, instance_id=instance_id, now=moment)
                )
            except EngineError as err:
                # A diagram that cannot go on is stopped and reported, not retried forever.
                log.error("instance %s stopped: %s", instance_id, err)
                _mark_failed(factory, instance_id, str(err), moment)
                result.failed[instance_id] = str(err)
                continue
            result.fired[instance_id] = fired


class TimerScheduler:
    """APScheduler jobs around run_pass: one at the next due time, one every few minutes."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        safety_interval: float = 60.0,
        blocking: bool = False,
        jobs: Sequence[PassJob] = (),
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.factory = factory
        self.safety_interval = safety_interval
        self.jobs = tuple(jobs)
        self.periodic = tuple(periodic)
        self.worker = worker_name()
        self._scheduler: BaseScheduler = (
            BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
        )
        self._pass_lock = threading.Lock()
        self._plan_lock = threading.Lock()
        self._stopping = False
        self._planned: datetime | None = None

    def tick(self) -> PassResult | None:
        """One pass now, then plan the next wake-up. Passes never overlap in a process."""
        if not self._pass_lock.acquire(blocking=False):
            return None
        try:
            result = run_pass(self.factory, jobs=self.jobs, worker=self.worker)
            if result.fired_count or result.failed:
                log.info(
                    "fired %d timer(s) in %d instance(s); %d failed",
                    result.fired_count,
                    len(result.fired),
                    len(result.failed),
                )
        except Exception:  # keep the scheduler alive; the next pass tries again
            log.exception("scheduler pass failed")
            return None
        finally:
            self._pass_lock.release()
        self._planned = None
        if result.next_due is not None:
            self.wake_at(result.next_due)
        return result

    def wake_at(self, due: datetime) -> None:
        """Make sure a pass runs at `due` (no later than any pass already planned)."""
        now = clock.now()
        # A timer still due when a pass is over (one its pass could not fire) is tried again
        # after a pause, so that it cannot keep passes running back to back; a timer due
        # later wakes the scheduler at its due time, however soon that is.
        when = due if due > now else now + _RETRY_PAUSE
        with self._plan_lock:
            if self._stopping or (self._planned is not None and self._planned <= when):
                return
            self._planned = when
            self._scheduler.add_job(
                self.tick,
                DateTrigger(run_date=when),
                id=_WAKE_JOB,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def next_wake(self) -> datetime | None:
        """When the next pass is planned for a due timer (None when nothing is waiting)."""
        job = self._scheduler.get_job(_WAKE_JOB)
        if job is None:
            return None
        run_date: datetime = job.trigger.run_date
        return run_date

    def follow_saves(self) -> None:
        """Wake earlier whenever a save in this process plans an earlier timer."""
        timer_events.subscribe(self.wake_at)

    def start(self, *, paused: bool = False) -> None:
        """Catch up on everything due, then keep running (blocks for a blocking scheduler).

        `paused` plans jobs without running them (for inspecting the plan).
        """
        self.follow_saves()
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.safety_interval),
            id=_SAFETY_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        for periodic in self.periodic:
            self._scheduler.add_job(
                self._run_periodic,
                IntervalTrigger(seconds=periodic.seconds),
                args=(periodic,),
                id=f"iisg-{periodic.name}",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                next_run_time=clock.now() + timedelta(seconds=1),
            )
        self._scheduler.add_job(self.tick, id="iisg-catch-up", misfire_grace_time=None)
        self._scheduler.start(paused=paused)

    def _run_periodic(self, periodic: Periodic) -> None:
        try:
            done = periodic.job(self.factory, clock.now())
            if done:
                log.info("%s: %d done", periodic.name, done)
        except Exception:  # keep the scheduler alive; the next run tries again
            log.exception("%s failed", periodic.name)

    def shutdown(self) -> None:
        """Stop, letting a running pass finish."""
        timer_events.unsubscribe(self.wake_at)
        # APScheduler holds its job-store lock while it waits for running jobs, and a pass
        # plans its next wake-up through that lock: stop planning first, or a pass running
        # now and this shutdown would wait for each other for ever.
        with self._plan_lock:
            self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
