"""The scheduler fires each due timer once, at its due time, oldest first, whoever runs it."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from engine.instances.steps import start_instance
from engine.scheduler.passes import TimerScheduler, run_pass
from models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.conftest import Clock, Database


def _start_timers(db: Database, clock: Clock, deadline: str = "P3D", **extra: object) -> int:
    data = {"reminders": 0, "deadline_in": deadline, **extra}
    row = db.run(lambda s: start_instance(s, "timers", data, actor="tests", now=clock.now()))
    return int(row.id)


def _fired(db: Database) -> list[tuple[int | None, str]]:
    with db.session() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.kind == "timer.fired").order_by(AuditEvent.seq)
        ).all()
        return [(e.instance_id, e.payload["timer"]) for e in events]


def test_nothing_fires_before_its_due_time(db: Database, clock: Clock, test_diagrams: None) -> None:
    _start_timers(db, clock)
    clock.move(hours=23, minutes=59)
    result = run_pass(db.factory)
    assert result.fired_count == 0
    assert result.next_due == clock.now() + timedelta(minutes=1)
    assert _fired(db) == []


def test_a_pass_fires_what_fell_due_while_it_was_down_oldest_first(
    db: Database, clock: Clock, test_diagrams: None
) -> None:
    first = _start_timers(db, clock)
    clock.move(hours=1)
    second = _start_timers(db, clock)
    clock.move(days=5)  # the scheduler was down: both reminders and both deadlines passed
    result = run_pass(db.factory)
    assert result.fired == {first: ["reminder", "deadline"], second: ["reminder", "deadline"]}
    assert [instance for instance, _ in _fired(db)] == [first, first, second, second]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 0
        late = s.scalars(select(HumanTask.name).where(HumanTask.status == "open")).all()
    assert late == ["Handle the late draft", "Handle the late draft"]


def test_two_schedulers_at_once_fire_each_timer_exactly_once(
    db: Database, clock: Clock, test_diagrams: None
) -> None:
    instances = [_start_timers(db, clock) for _ in range(6)]
    clock.move(days=1, minutes=1)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def scheduler_process() -> None:
        try:
            barrier.wait()
            run_pass(db.factory)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=scheduler_process) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_fired(db)) == sorted((i, "reminder") for i in instances)
    with db.session() as s:
        reminded = s.scalars(select(ProcessInstance)).all()
        assert all('"reminders":1' in row.state_json for row in reminded)


def test_a_procedure_that_fails_at_its_timer_is_stopped_and_reported_not_retried(
    db: Database, clock: Clock, test_diagrams: None
) -> None:
    broken = db.run(
        lambda s: start_instance(
            s, "timers", {"deadline_in": "P3D"}, actor="tests", now=clock.now()
        )  # no "reminders": the reminder's script will fail
    ).id
    healthy = _start_timers(db, clock)
    clock.move(days=1, minutes=1)
    result = run_pass(db.factory)
    assert set(result.failed) == {broken}
    assert "reminders" in result.failed[broken]
    assert result.fired == {healthy: ["reminder"]}
    with db.session() as s:
        row = s.get(ProcessInstance, broken)
        assert row is not None and row.status == "error"
    again = run_pass(db.factory)
    assert again.failed == {}
    # Its overdue timer no longer counts: the next pass is planned for the healthy
    # procedure's next timer, not at once, again and again, for the stopped one's.
    assert again.next_due is not None and again.next_due > clock.now()


def test_the_scheduler_plans_its_wake_up_at_the_earliest_due_timer(
    db: Database, clock: Clock, test_diagrams: None
) -> None:
    _start_timers(db, clock, deadline="PT2H")
    scheduler = TimerScheduler(db.factory)
    scheduler.start(paused=True)  # plans jobs, runs none: the test drives each pass
    try:
        scheduler.tick()
        assert scheduler.next_wake() == clock.now() + timedelta(hours=2)
        # A save in this process that plans an earlier timer moves the wake-up forward.
        _start_timers(db, clock, deadline="PT30M")
        assert scheduler.next_wake() == clock.now() + timedelta(minutes=30)
        # However soon after a pass a timer falls due, the wake-up is at its due time.
        soon = clock.now() + timedelta(milliseconds=50)
        scheduler.wake_at(soon)
        assert scheduler.next_wake() == soon
        # Something still due once a pass is over is tried again after a pause, not in a
        # loop of passes.
        scheduler.tick()
        scheduler.wake_at(clock.now() - timedelta(seconds=1))
        planned = scheduler.next_wake()
        assert planned is not None and clock.now() < planned <= clock.now() + timedelta(seconds=1)
    finally:
        scheduler.shutdown()
