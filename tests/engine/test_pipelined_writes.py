"""On PostgreSQL a step's writes go to the server with its commit: the same outcome as one
statement at a time, in the same order, refused as a whole when a row changed meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.audit import verify
from engine.guarded_writes import write_or_conflict
from engine.unit_of_work import is_conflict
from models import AuditEvent, ProcessInstance
from models.pipeline import can_queue
from tests.conftest import Database
from tests.engine.conftest import Procedures

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgresql_only(db: Database) -> None:
    if not db.is_postgresql:
        pytest.skip("SQLite writes each statement as it comes: nothing is queued there")


def changed(row: ProcessInstance) -> StaleDataError:
    return StaleDataError(f"procedure instance {row.id} was changed by someone else")


def bump(session: Session, row: ProcessInstance, note: str) -> None:
    """The Secretariat's step on an instance: its version moves on, and the trail says so."""
    audit.record(
        session, kind="test.step", actor="sec", now=NOW, instance_id=row.id, payload={"note": note}
    )
    version = row.lock_version
    write_or_conflict(
        session,
        row,
        {"lock_version": version},
        {"lock_version": version + 1},
        lambda: changed(row),
    )


def events(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_read_after_queued_writes_sees_them(procedures: Procedures) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version

    def step(session: Session) -> int | None:
        row = session.get_one(ProcessInstance, instance_id)
        assert can_queue(session.connection())  # the writes below are queued
        bump(session, row, "first")
        # A read waits for what is queued: it sees the new version and the new event.
        return session.scalar(
            select(ProcessInstance.lock_version).where(ProcessInstance.id == instance_id)
        )

    assert procedures.db.run(step) == before + 1
    assert procedures.instance(instance_id).lock_version == before + 1


def test_a_step_on_a_row_changed_meanwhile_is_refused_and_nothing_of_it_is_stored(
    procedures: Procedures,
) -> None:
    db = procedures.db
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    events_before = events(db)

    with db.session() as late:
        row = late.get_one(ProcessInstance, instance_id)  # read at version n
        # Someone else's step lands first: the instance is at version n + 1.
        db.run(lambda other: bump(other, other.get_one(ProcessInstance, instance_id), "first"))
        bump(late, row, "late")  # queued: nothing has told this session yet
        with pytest.raises(DBAPIError) as refused:
            late.commit()
        late.rollback()

    assert is_conflict(refused.value)  # the unit of work starts again from what is stored
    assert getattr(refused.value.orig, "sqlstate", None) == "40001"
    assert f"procedure instance {instance_id} was changed by someone else" in str(refused.value)
    # Only the other step is stored: the late step's audit event went with its refusal.
    assert events(db) == events_before + 1
    with db.session() as session:
        assert verify(session).intact


def test_a_rollback_drops_what_is_queued_and_the_connection_works_on(
    procedures: Procedures,
) -> None:
    db = procedures.db
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version
    events_before = events(db)

    with db.session() as session:
        bump(session, session.get_one(ProcessInstance, instance_id), "abandoned")
        session.rollback()
        # The same session goes on with a new transaction on a clean connection.
        bump(session, session.get_one(ProcessInstance, instance_id), "kept")
        session.commit()

    assert procedures.instance(instance_id).lock_version == before + 1
    assert events(db) == events_before + 1
    # The pool hands out connections with no pipeline left open: plain work goes on.
    for _ in range(3):
        assert db.run(lambda s: s.get_one(ProcessInstance, instance_id).lock_version) == before + 1


def test_writes_outside_a_transaction_are_not_queued(db: Database) -> None:
    # Each statement commits as it runs there (the API token's check): nothing would send them.
    with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as autocommit:
        assert not can_queue(autocommit)
    with db.engine.connect() as connection:
        assert can_queue(connection)
        with connection.begin_nested():
            assert not can_queue(connection)  # a savepoint's rollback must see its errors


def test_a_transaction_whose_first_statement_fails_leaves_the_connection_usable(
    db: Database,
) -> None:
    # The first statement goes with its BEGIN in one round trip; its error is still its own.
    with db.session() as session:
        with pytest.raises(DBAPIError) as failed:
            session.execute(text("SELECT 1 / 0"))
        assert getattr(failed.value.orig, "sqlstate", None) == "22012"  # division by zero
        session.rollback()
        assert session.scalar(text("SELECT 40 + 2")) == 42
