"""`iisg backup` and `iisg restore`: procedures in flight survive a restore into a new database,
their audit chain verifies and their timers fire once; a changed file or a used database is
refused and nothing changes."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from commands.cli import main
from engine import audit
from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from engine.instances.steps import complete_task, start_instance
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import run_pass
from models import (
    AuditEvent,
    Base,
    Decision,
    DecisionAnswer,
    HumanTask,
    ProcessInstance,
    PublicHoliday,
    Timer,
    make_engine,
    make_session_factory,
)
from models import backup as backup_module
from models.migrate import upgrade
from tests.conftest import Clock, Database, empty_database

INSTANCES = 3


@dataclass
class Target:
    """The empty database a backup is restored into."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]

    def run(self, work: Callable[[Session], Any]) -> Any:
        return run_in_transaction(self.factory, work)


@pytest.fixture
def target(db: Database, tmp_path: Path) -> Iterator[Target]:
    """A second database, migrated and empty."""
    with empty_database(db, tmp_path, "restored") as url:
        upgrade(url)
        engine = make_engine(url)
        yield Target(url, engine, make_session_factory(engine))
        engine.dispose()


def iisg(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> Result:
    """Run `iisg` against the database at `url`."""
    monkeypatch.setenv("IISG_DATABASE_URL", url)
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def in_flight(
    db: Database,
    clock: Clock,
    test_diagrams: None,
    make_person: Callable[..., Participant],
) -> Participant:
    """Procedures under way: open tasks with waiting timers, a finished step, a decision."""
    secretariat = make_person("sec", Grant("secretariat"))
    now = clock.now()

    def work(session: Session) -> None:
        started = [
            start_instance(
                session, "timers", {"reminders": 0, "deadline_in": "P3D"}, actor="sec", now=now
            )
            for _ in range(INSTANCES)
        ]
        session.flush()
        prepare = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == started[-1].id, HumanTask.bpmn_id == "prepare"
            )
        ).one()
        complete_task(session, prepare.id, {}, participant=secretariat, now=now)
        decision = Decision(
            instance_id=started[0].id,
            method="silent_procedure",
            subject="Summaries of the 2026 mapping — Kosovo*, Türkiye, 'quotes' & \"more\"",
            text="Line one\nLine two ✓",
            text_sha256="0" * 64,
            documents=[{"name": "summary.pdf", "url": "https://example.org/s.pdf"}],
            launched_at=now,
            deadline=now + timedelta(days=14),
            deadline_extended=True,
        )
        decision.answers.append(
            DecisionAnswer(seat="AL", answer="no_objection", answered_by="sec", answered_at=now)
        )
        decision.answers.append(DecisionAnswer(seat="BA", answer="silence"))
        session.add(decision)
        session.add(PublicHoliday(day=date(2026, 12, 25), partner=None, name="Christmas"))

    db.run(work)
    return secretariat


def _all_rows(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    with factory() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in Base.metadata.sorted_tables
        }


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Copy a backup zip, passing each member through `change`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            new.writestr(item.filename, change(item.filename, old.read(item)))


def test_a_restored_database_continues_where_the_procedures_were(
    db: Database,
    clock: Clock,
    in_flight: Participant,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup = tmp_path / "iisg.backup"
    began = time.monotonic()
    made = iisg(monkeypatch, db.url, "backup", str(backup))
    assert made.exit_code == 0, made.output
    print(f"backup: {backup.stat().st_size} bytes in {time.monotonic() - began:.2f} s")
    assert "Backed up" in made.output
    again = iisg(monkeypatch, db.url, "backup", str(backup))
    assert again.exit_code != 0 and "already exists" in again.output

    restored = iisg(monkeypatch, target.url, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert _all_rows(target.factory) == _all_rows(db.factory), "every row, every value"
    with target.factory() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    verified = iisg(monkeypatch, target.url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"{events} event(s) verified" in verified.output
    with target.factory() as session:
        for instance_id in session.scalars(select(ProcessInstance.id)):
            assert load(session, instance_id).workflow is not None

    # The reminders fall due a day later: each fires once on the restored database.
    with target.factory() as session:
        waiting = set(session.scalars(select(Timer.instance_id).where(Timer.bpmn_id == "reminder")))
    assert len(waiting) == INSTANCES - 1
    clock.move(days=1)
    first = run_pass(target.factory)
    assert first.fired_count == len(waiting) and set(first.fired) == waiting
    assert run_pass(target.factory).fired_count == 0
    with target.factory() as session:
        fired = session.scalars(
            select(AuditEvent.instance_id).where(AuditEvent.kind == "timer.fired")
        ).all()
    assert len(fired) == len(waiting) and set(fired) == waiting, "each fired once"

    # A step completes, and new rows take ids after the restored ones.
    secretariat = in_flight
    with target.factory() as session:
        old_task = session.scalar(select(func.max(HumanTask.id))) or 0
        old_instance = session.scalar(select(func.max(ProcessInstance.id))) or 0
        prepare = session.scalars(
            select(HumanTask).where(HumanTask.bpmn_id == "prepare", HumanTask.status == "open")
        ).first()
    assert prepare is not None
    target.run(lambda s: complete_task(s, prepare.id, {}, participant=secretariat, now=clock.now()))
    new_instance = target.run(
        lambda s: (
            start_instance(
                s, "timers", {"reminders": 0, "deadline_in": "P3D"}, actor="sec", now=clock.now()
            ).id
        )
    )
    assert new_instance > old_instance
    with target.factory() as session:
        assert (session.scalar(select(func.max(HumanTask.id))) or 0) > old_task
    verified = iisg(monkeypatch, target.url, "audit", "verify")
    assert verified.exit_code == 0, verified.output

    # Restoring again into the database now in use is refused and changes nothing.
    before = _all_rows(target.factory)
    refused = iisg(monkeypatch, target.url, "restore", str(backup))
    assert refused.exit_code != 0
    assert "the database is not empty" in refused.output
    assert "Nothing was restored" in refused.output
    assert _all_rows(target.factory) == before


def test_a_changed_or_mismatched_backup_is_refused_and_the_database_stays_empty(
    db: Database,
    in_flight: Participant,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup = tmp_path / "iisg.backup"
    assert iisg(monkeypatch, db.url, "backup", str(backup)).exit_code == 0
    empty = _counts(target.factory)

    tampered = tmp_path / "tampered.backup"
    _rewrite(
        backup,
        tampered,
        lambda name, data: data.replace(b'"sec"', b'"eve"') if "audit_event" in name else data,
    )
    refused = iisg(monkeypatch, target.url, "restore", str(tampered))
    assert refused.exit_code != 0
    assert "damaged or was changed" in refused.output and "audit_event" in refused.output
    assert _counts(target.factory) == empty

    other_revision = tmp_path / "older.backup"

    def older(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "0008"
        return json.dumps(manifest).encode()

    _rewrite(backup, other_revision, older)
    refused = iisg(monkeypatch, target.url, "restore", str(other_revision))
    assert refused.exit_code != 0
    assert "made at database revision 0008" in refused.output
    assert _counts(target.factory) == empty

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    refused = iisg(monkeypatch, target.url, "restore", str(not_a_backup))
    assert refused.exit_code != 0 and "cannot be read as an IISG backup" in refused.output
    assert _counts(target.factory) == empty


def test_a_row_the_database_refuses_rolls_back_every_table_restored_before_it(
    db: Database,
    in_flight: Participant,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup = tmp_path / "iisg.backup"
    assert iisg(monkeypatch, db.url, "backup", str(backup)).exit_code == 0
    empty = _counts(target.factory)
    member = "tables/decision_answer.jsonl"
    with zipfile.ZipFile(backup) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        answers = archive.read(member)
    orphan = json.loads(answers.splitlines()[0])
    orphan[0:2] = [999_999, 999_999]  # a fresh id, answering a decision that does not exist
    answers += (json.dumps(orphan) + "\n").encode()
    manifest["tables"]["decision_answer"].update(
        rows=len(answers.splitlines()), sha256=hashlib.sha256(answers).hexdigest()
    )
    resealed = tmp_path / "resealed.backup"
    _rewrite(
        backup,
        resealed,
        lambda name, data: (
            answers
            if name == member
            else json.dumps(manifest).encode()
            if "manifest" in name
            else data
        ),
    )
    failed = iisg(monkeypatch, target.url, "restore", str(resealed))
    assert failed.exit_code != 0
    assert "could not be written" in failed.output and "Nothing was restored" in failed.output
    assert _counts(target.factory) == empty


def test_a_backup_is_one_moment_even_while_procedures_keep_writing(
    db: Database,
    clock: Clock,
    in_flight: Participant,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A procedure started while the backup is between tables is wholly absent from it, and
    the restored audit chain still ends where its head says."""
    read_tables = backup_module._rows
    written: list[int] = []

    def rows_then_write(connection: Connection, table: Table) -> Iterator[list[Any]]:
        yield from read_tables(connection, table)
        if not written:  # after the first table (the chain's head), another process writes
            written.append(
                db.run(
                    lambda s: (
                        start_instance(
                            s,
                            "timers",
                            {"reminders": 0, "deadline_in": "P3D"},
                            actor="sec",
                            now=clock.now(),
                        ).id
                    )
                )
            )

    monkeypatch.setattr(backup_module, "_rows", rows_then_write)
    backup = tmp_path / "iisg.backup"
    made = iisg(monkeypatch, db.url, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert written, "the write happened during the backup"
    restored = iisg(monkeypatch, target.url, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    with target.factory() as session:
        assert session.get(ProcessInstance, written[0]) is None
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == INSTANCES
    verified = iisg(monkeypatch, target.url, "audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_a_restored_database_has_no_scheduler_running_until_one_starts_against_it(
    db: Database,
    clock: Clock,
    in_flight: Participant,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IISG_SETTINGS", raising=False)
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path))  # no settings file: the defaults
    run_pass(db.factory)
    source = iisg(monkeypatch, db.url, "scheduler", "status")
    assert source.output.startswith("Scheduler: running"), source.output
    backup = tmp_path / "iisg.backup"
    assert iisg(monkeypatch, db.url, "backup", str(backup)).exit_code == 0

    restored = iisg(monkeypatch, target.url, "restore", str(backup))

    assert restored.exit_code == 0, restored.output
    status = iisg(monkeypatch, target.url, "scheduler", "status")
    assert status.exit_code == 1
    assert status.output.startswith("Scheduler: NOT RUNNING, no pass has been recorded.")
    with db.factory() as session:
        waiting = session.scalar(select(func.count()).select_from(Timer))
    assert f"Timers waiting: {waiting}." in status.output.splitlines(), "the timers came along"

    run_pass(target.factory)
    started = iisg(monkeypatch, target.url, "scheduler", "status")
    assert started.exit_code == 0 and started.output.startswith("Scheduler: running")


def test_a_sqlite_backup_with_awkward_numbers_verifies_once_restored(
    clock: Clock, target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded database moved to the production one (PostgreSQL when the suite runs on
    # it): the audit trail's numbers must read back as the text their hashes cover.
    source = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    upgrade(source)
    engine = make_engine(source)
    awkward = {"x": 1e300, "tiny": 1e-300, "tenth": 0.1, "minus_zero": -0.0, "big": 2**53 - 1}
    run_in_transaction(
        make_session_factory(engine),
        lambda s: audit.record(s, kind="note", actor="sec", now=clock.now(), payload=awkward),
    )
    engine.dispose()
    backup = tmp_path / "embedded.backup"
    assert iisg(monkeypatch, source, "backup", str(backup)).exit_code == 0

    restored = iisg(monkeypatch, target.url, "restore", str(backup))
    assert restored.exit_code == 0, restored.output

    verified = iisg(monkeypatch, target.url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "1 event(s) verified" in verified.output
    with target.factory() as session:
        assert session.scalars(select(AuditEvent)).one().payload == awkward
