"""The scheduler: wakes at the earliest due timer, fires it exactly once, catches up on start.

Each instance's due timers fire in their own unit of work. Exactly once across several
scheduler processes: the timer rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and
the instance's optimistic lock refuses a second save of the same state; a process killed
mid-firing commits nothing, so the timer stays for the next pass.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from engine import audit, clock, timer_events
from engine.errors import EngineError
from engine.instances import due_instances, earliest_due_timer, fire_due_timers
from engine.unit_of_work import run_in_transaction
from models import ProcessInstance

log = logging.getLogger("iisg.scheduler")
_WAKE_JOB = "iisg-wake-at-due-timer"
_SAFETY_JOB = "iisg-safety-net"


@dataclass
class PassResult:
    """What one pass did: timers fired per instance, instances that failed, the next due time."""

    fired: dict[int, list[str]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    next_due: datetime | None = None

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


def run_pass(
    factory: sessionmaker[Session], now: datetime | None = None, batch: int = 100
) -> PassResult:
    """Fire every timer due at `now` (default: the clock's now), the longest overdue first."""
    moment = now or clock.now()
    result = PassResult()
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
    with factory() as session:
        result.next_due = earliest_due_timer(session)
    return result


class TimerScheduler:
    """APScheduler jobs around run_pass: one at the next due time, one every few minutes."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        safety_interval: float = 60.0,
        blocking: bool = False,
    ) -> None:
        self.factory = factory
        self.safety_interval = safety_interval
        self._scheduler: BaseScheduler = (
            BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
        )
        self._pass_lock = threading.Lock()
        self._planned: datetime | None = None

    def tick(self) -> PassResult | None:
        """One pass now, then plan the next wake-up. Passes never overlap in a process."""
        if not self._pass_lock.acquire(blocking=False):
            return None
        try:
            result = run_pass(self.factory)
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
        soonest = clock.now() + timedelta(milliseconds=200)
        when = max(due, soonest)
        if self._planned is not None and self._planned <= when:
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
        self._scheduler.add_job(self.tick, id="iisg-catch-up", misfire_grace_time=None)
        self._scheduler.start(paused=paused)

    def shutdown(self) -> None:
        """Stop, letting a running pass finish."""
        timer_events.unsubscribe(self.wake_at)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
