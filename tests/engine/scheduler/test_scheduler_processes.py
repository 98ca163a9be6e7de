"""Real scheduler processes on the real clock: several at once fire each timer exactly once; one
killed in the middle of a pass loses and doubles nothing; a timer a second ahead fires on time.

These tests start instances in the past (the clock is the real one here), so their timers are
due when the scheduler processes start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.diagrams.bundle import read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.steps import start_instance
from engine.scheduler.passes import TimerScheduler
from models import AuditEvent, ProcessInstance, SchedulerPass, Timer
from tests.conftest import TEST_BPMN, Database, record_figures
from workflows.people.roles import known_roles

IISG = str(Path(sys.executable).parent / "iisg")
TIMERS = 500


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def deployed(db: Database) -> Database:
    bundle = require_bundle(read_directory(TEST_BPMN), known_roles())
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=_now() - timedelta(days=3)))
    return db


@pytest.fixture
def scheduler_env(db: Database, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(IISG_DATABASE_URL=db.url, IISG_INSTANCE_DIR=str(tmp_path))
    env.pop("IISG_SETTINGS", None)
    return env


def _start_overdue(db: Database, count: int) -> list[int]:
    """`count` instances whose one-day reminder fell due a minute ago (started a day ago)."""
    started = _now() - timedelta(days=1, minutes=1)

    def work(session: Session) -> list[int]:
        return [
            start_instance(
                session,
                "timers",
                {"reminders": 0, "deadline_in": "P3D"},
                actor="tests",
                now=started,
            ).id
            for _ in range(count)
        ]

    ids: list[int] = db.run(work)
    return ids


def _fired_per_instance(db: Database) -> Counter[int]:
    with db.session() as s:
        return Counter(
            i
            for i in s.scalars(
                select(AuditEvent.instance_id).where(AuditEvent.kind == "timer.fired")
            )
            if i is not None
        )


def _fired_twice(db: Database) -> int:
    return sum(count - 1 for count in _fired_per_instance(db).values())


def _waiting_reminders(db: Database) -> set[int]:
    with db.session() as s:
        return set(s.scalars(select(Timer.instance_id).where(Timer.bpmn_id == "reminder")))


def _assert_each_fired_once(db: Database, instances: list[int]) -> None:
    fired = _fired_per_instance(db)
    assert sorted(fired) == sorted(instances), "every due timer fired"
    assert set(fired.values()) == {1}, "and none twice"
    assert _waiting_reminders(db) == set()
    with db.session() as s:
        states = s.scalars(select(ProcessInstance.state_json)).all()
        assert all('"reminders":1' in state for state in states)
        assert audit.verify(s).intact


@pytest.fixture
def kill_on_exit() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_two_scheduler_processes_racing_over_500_due_timers_fire_each_exactly_once(
    deployed: Database, scheduler_env: dict[str, str], kill_on_exit: list[subprocess.Popen[bytes]]
) -> None:
    instances = _start_overdue(deployed, TIMERS)
    processes = [
        subprocess.Popen(
            [IISG, "scheduler", "--once"],
            env=scheduler_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    kill_on_exit.extend(processes)
    outputs = [p.communicate(timeout=600)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    _assert_each_fired_once(deployed, instances)
    with deployed.session() as s:
        count = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "timer.fired")
        )
        shares = sorted(s.scalars(select(SchedulerPass.fired)).all())
    assert count == TIMERS
    # Each process recorded its pass, and together they fired exactly all of them.
    assert len(shares) == 2 and sum(shares) == TIMERS
    record_figures(
        "two schedulers racing",
        {
            "database": deployed.engine.dialect.name,
            "timers_due": TIMERS,
            "fired_by_each": shares,
            "fired_twice": _fired_twice(deployed),
        },
    )


def test_a_scheduler_killed_mid_pass_loses_and_doubles_nothing(
    deployed: Database, scheduler_env: dict[str, str], kill_on_exit: list[subprocess.Popen[bytes]]
) -> None:
    instances = _start_overdue(deployed, TIMERS)
    process = subprocess.Popen(
        [IISG, "scheduler"], env=scheduler_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    kill_on_exit.append(process)
    deadline = time.monotonic() + 120  # waiting for the process to get going, not for time
    while sum(_fired_per_instance(deployed).values()) < 20:
        assert time.monotonic() < deadline, "the scheduler fired nothing"
        assert process.poll() is None, "the scheduler exited"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    fired = _fired_per_instance(deployed)
    assert 0 < len(fired) < TIMERS, "killed in the middle of the pass"
    assert set(fired.values()) == {1}
    # Whatever the kill interrupted was rolled back whole: each instance either fired (its
    # reminder timer gone) or still waits on it, never both, never neither.
    assert _waiting_reminders(deployed) == set(instances) - set(fired)

    restarted = subprocess.run(
        [IISG, "scheduler", "--once"], env=scheduler_env, capture_output=True, timeout=600
    )
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    _assert_each_fired_once(deployed, instances)
    record_figures(
        "a scheduler killed mid-pass",
        {
            "database": deployed.engine.dialect.name,
            "timers_due": TIMERS,
            "fired_before_the_kill": len(fired),
            "fired_after_the_restart": TIMERS - len(fired),
            "fired_twice": _fired_twice(deployed),
        },
    )


def test_a_timer_a_second_ahead_fires_within_a_second_of_its_due_time(deployed: Database) -> None:
    """The one test on the real clock with a wait: the scheduler sleeps until the timer."""
    scheduler = TimerScheduler(deployed.factory, safety_interval=3600)
    scheduler.start()
    try:
        # An instance started a day ago less one second: its reminder is due in a second.
        started = _now() - timedelta(days=1) + timedelta(seconds=1)
        instance = deployed.run(
            lambda s: start_instance(
                s, "timers", {"reminders": 0, "deadline_in": "P3D"}, actor="tests", now=started
            )
        ).id
        due = started + timedelta(days=1)
        give_up = time.monotonic() + 10
        while not _fired_per_instance(deployed) and time.monotonic() < give_up:
            time.sleep(0.02)
        seen = _now()
    finally:
        scheduler.shutdown()
    assert _fired_per_instance(deployed) == {instance: 1}
    assert seen - due < timedelta(seconds=1), f"fired {seen - due} after its due time"


def test_a_timer_due_while_the_scheduler_was_stopped_fires_when_it_starts(
    deployed: Database,
) -> None:
    instances = _start_overdue(deployed, 3)  # due a minute ago; no scheduler was running
    scheduler = TimerScheduler(deployed.factory, safety_interval=3600)
    scheduler.start()  # catches up at once, without waiting for the safety interval
    try:
        give_up = time.monotonic() + 10
        while len(_fired_per_instance(deployed)) < 3 and time.monotonic() < give_up:
            time.sleep(0.02)
    finally:
        scheduler.shutdown()
    _assert_each_fired_once(deployed, instances)
