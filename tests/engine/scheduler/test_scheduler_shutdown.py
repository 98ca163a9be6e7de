"""Stopping a scheduler while a pass runs: the pass finishes and the scheduler stops, instead
of the two waiting for each other (APScheduler holds its job-store lock while it waits for
running jobs, and a pass plans its next wake-up through that lock)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from engine.scheduler.passes import JobOutcome, TimerScheduler
from tests.conftest import Database

WAIT = 10.0  # seconds: only reached when something hangs


def test_shutdown_during_a_pass_lets_it_finish_and_stops(db: Database) -> None:
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_job(factory: sessionmaker[Session], now: datetime) -> JobOutcome:
        entered.set()
        release.wait(WAIT)
        finished.set()
        # Work due later: the pass then plans its next wake-up, through APScheduler's lock.
        return JobOutcome(done=1, next_due=now + timedelta(hours=1))

    scheduler = TimerScheduler(db.factory, jobs=[slow_job])
    scheduler.start()
    assert entered.wait(WAIT), "the catch-up pass did not start"
    stopping = threading.Thread(target=scheduler.shutdown)
    stopping.start()
    # Let the shutdown reach APScheduler's wait for running jobs before the pass goes on.
    pause = threading.Event()
    while scheduler._scheduler.running:
        pause.wait(0.01)
    pause.wait(0.1)
    release.set()

    stopping.join(WAIT)

    assert not stopping.is_alive(), "shutdown and the running pass wait for each other"
    assert finished.is_set()
