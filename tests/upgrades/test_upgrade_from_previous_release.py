"""A database the previous release left, procedures half-way and timers waiting, upgraded with
`iisg db upgrade`: every procedure loads and goes on, every timer fires, the audit chain holds.

Each dump in tests/upgrades/dumps/ (made by make_dump.py on the commit before a schema change)
is restored at its own revision, then upgraded to whatever head is today.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from commands.cli import main
from engine import audit
from engine.diagrams.forms import example_answer, load_form
from engine.instances.assignment import Participant, is_offered_to
from engine.instances.loading import load
from engine.instances.steps import complete_task
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import run_pass
from models import (
    AuditEvent,
    HumanTask,
    OutboxMessage,
    ProcessInstance,
    Timer,
    User,
    make_engine,
    make_session_factory,
)
from models.migrate import current_is_head, upgrade
from models.restore import restore_backup
from tests.conftest import Clock, Database, empty_database
from workflows.jobs.schedule import pass_jobs
from workflows.people.accounts import participant
from workflows.settings import ProcedureSettings

DUMPS = sorted((Path(__file__).parent / "dumps").glob("*.backup"))


def _manifest(dump: Path) -> dict[str, str]:
    with zipfile.ZipFile(dump) as archive:
        manifest: dict[str, str] = json.loads(archive.read("manifest.json"))
    return manifest


@pytest.fixture
def previous_release(db: Database, tmp_path: Path) -> Iterator[str]:
    """A new database with no tables at all, for the previous release's dump."""
    with empty_database(db, tmp_path, "previous_release") as url:
        yield url


def _chain_intact(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        report = audit.verify(session)
    assert report.intact, f"the audit chain breaks at {report.broken_seq}: {report.reason}"
    return report.checked


def _timers(factory: sessionmaker[Session]) -> list[tuple[int, str, datetime]]:
    with factory() as session:
        rows = session.execute(select(Timer.instance_id, Timer.bpmn_id, Timer.due_at)).all()
    return sorted((i, b, d) for i, b, d in rows)


def _claims(factory: sessionmaker[Session]) -> list[tuple[int, str | None]]:
    with factory() as session:
        rows = session.execute(
            select(HumanTask.id, HumanTask.claimed_by).where(HumanTask.status == "open")
        ).all()
    return sorted((i, c) for i, c in rows)


def _someone_who_may_act(session: Session, task: HumanTask) -> Participant:
    for user in session.scalars(select(User).where(User.active).order_by(User.id)):
        person = participant(user)
        if is_offered_to(person, task) and task.claimed_by in (None, person.username):
            return person
    raise AssertionError(f"nobody may act on '{task.name}' ({task.role})")


def _complete_one_of_each_kind(factory: sessionmaker[Session], now: datetime) -> list[str]:
    """Complete an open task of each kind, a claimed one where there is one, with its form's
    example answer."""
    done: list[str] = []
    with factory() as session:
        open_tasks = session.execute(
            select(HumanTask.process_key, HumanTask.bpmn_id, HumanTask.id)
            .where(HumanTask.status == "open")
            .order_by(HumanTask.claimed_by.is_(None), HumanTask.id)
        ).all()
    kinds: dict[tuple[str, str], int] = {}
    for process_key, bpmn_id, task_id in open_tasks:
        kinds.setdefault((process_key, bpmn_id), task_id)
    for (process_key, bpmn_id), task_id in sorted(kinds.items()):

        def work(session: Session, task_id: int = task_id) -> None:
            task = session.get_one(HumanTask, task_id)
            schema = load_form(load(session, task.instance_id).definition.files, task.form)
            # Dates in an answer lie ahead, as a person's would (a deadline moved, a meeting).
            answer = example_answer(schema, now + timedelta(days=14))
            person = _someone_who_may_act(session, task)
            complete_task(session, task_id, answer, participant=person, now=now)

        run_in_transaction(factory, work)
        with factory() as session:
            assert session.get_one(HumanTask, task_id).status == "completed", bpmn_id
        done.append(f"{process_key}.{bpmn_id}")
    return done


@pytest.mark.parametrize("dump", DUMPS, ids=[d.stem for d in DUMPS])
def test_a_previous_release_upgrades_and_every_procedure_goes_on(
    dump: Path,
    previous_release: str,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    began = time.monotonic()
    manifest = _manifest(dump)
    made_at = datetime.fromisoformat(manifest["created_at"])
    clock.move(seconds=(made_at - clock.now()).total_seconds())
    url = previous_release
    upgrade(url, manifest["alembic_revision"])
    engine: Engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        restore_backup(engine, dump)
        events_before = _chain_intact(factory)
        timers_before = _timers(factory)
        with factory() as session:
            running = list(
                session.scalars(
                    select(ProcessInstance.id).where(ProcessInstance.status == "running")
                )
            )
        claims_before = _claims(factory)
        assert running and timers_before, "the dump has procedures and timers waiting"

        monkeypatch.setenv("IISG_DATABASE_URL", url)
        upgraded = CliRunner().invoke(main, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert current_is_head(url)

        assert _chain_intact(factory) >= events_before
        assert _timers(factory) == timers_before, "the upgrade keeps every timer"
        assert _claims(factory) == claims_before, "and every claim"
        with factory() as session:
            for instance_id in running:
                assert load(session, instance_id).workflow is not None

        completed = _complete_one_of_each_kind(factory, clock.now())
        assert completed, "the dump has open tasks"

        # The scheduler wakes when it planned to, up to the last timer: each timer fires once,
        # and the reminders of the tasks still open go out on the way.
        waiting = _timers(factory)
        last_due = max(due for _, _, due in waiting)
        with factory() as session:
            reminders_before = session.scalar(
                select(func.count()).where(OutboxMessage.kind == "reminder")
            )
        jobs = pass_jobs(ProcedureSettings())
        fired: dict[int, list[str]] = {}
        for _ in range(100):
            result = run_pass(factory, jobs=jobs)
            assert not result.failed and not result.errors, (result.failed, result.errors)
            for instance_id, bpmn_ids in result.fired.items():
                fired.setdefault(instance_id, []).extend(bpmn_ids)
            if clock.now() > last_due:
                break
            wake = min(result.next_due or last_due, last_due) + timedelta(seconds=1)
            clock.move(seconds=max((wake - clock.now()).total_seconds(), 1))
        assert sorted((i, b) for i, bs in fired.items() for b in bs) == sorted(
            (i, b) for i, b, _ in waiting
        ), "every timer waiting fired, once"
        assert _timers(factory) == [] or min(d for _, _, d in _timers(factory)) > last_due
        with factory() as session:
            reminders_after = session.scalar(
                select(func.count()).where(OutboxMessage.kind == "reminder")
            )
            fired_events = session.scalar(
                select(func.count()).where(AuditEvent.kind == "timer.fired")
            )
        assert (reminders_after or 0) > (reminders_before or 0), "reminders still go out"
        assert fired_events == sum(len(b) for b in fired.values())
        _chain_intact(factory)
    finally:
        engine.dispose()
    print(
        f"{dump.name}: {len(running)} procedures, {len(completed)} kinds of task completed, "
        f"{len(waiting)} timers fired, in {time.monotonic() - began:.1f} s"
    )
