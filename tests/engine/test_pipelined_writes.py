"""On PostgreSQL a step's writes go to the server with its commit: the same outcome as one
statement at a time, in the same order, refused as a whole when a row changed meanwhile."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.assignment import Grant, Participant
from engine.audit import verify
from engine.guarded_writes import write_or_conflict
from engine.instances import complete_task
from engine.kept_workflows import kept_workflows
from engine.unit_of_work import is_conflict
from models import AuditEvent, ProcessInstance, make_engine, make_session_factory, pipeline
from models.pipeline import can_queue, together
from tests.conftest import Database
from tests.engine.conftest import SEATS, Procedures

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
    move_version_on(session, row)


def move_version_on(session: Session, row: ProcessInstance) -> None:
    """The instance's version moves on, if it is still the one this session holds."""
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


@pytest.mark.parametrize("as_one_statement", [False, True])
def test_a_step_on_a_row_changed_meanwhile_is_refused_and_nothing_of_it_is_stored(
    procedures: Procedures, as_one_statement: bool
) -> None:
    db = procedures.db
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    events_before = events(db)

    with db.session() as late:
        row = late.get_one(ProcessInstance, instance_id)  # read at version n
        # Someone else's step lands first: the instance is at version n + 1.
        db.run(lambda other: bump(other, other.get_one(ProcessInstance, instance_id), "first"))
        # Queued (the event and the version each, or together): nothing has told this
        # session yet.
        with together(late.connection()) if as_one_statement else nullcontext():
            bump(late, row, "late")
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


def test_an_engine_without_transactions_runs_what_no_transaction_may(db: Database) -> None:
    # An operator's engine (creating or dropping a database) begins nothing, so it queues
    # nothing: its statements run as they come, each on its own.
    admin = make_engine(db.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert not can_queue(connection)
            connection.execute(text("VACUUM audit_event"))  # refused inside a transaction
        with pytest.raises(ValueError, match="without transactions"):
            pipeline.enable(admin)
    finally:
        admin.dispose()


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


Exchange = list[str]  # what the client sent (libpq trace lines) before one wait


@contextmanager
def server_exchanges(url: str, trace_file: Path) -> Iterator[tuple[Database, list[Exchange]]]:
    """A database handle on one connection whose protocol libpq traces; the list is filled
    at the end with what was sent before each wait for the server (each ReadyForQuery)."""
    engine = make_engine(url, ping_after_idle_s=3600, pool_size=1, max_overflow=0)
    exchanges: list[Exchange] = []
    with engine.connect() as connection:  # the pool's one connection, the same afterwards
        driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with trace_file.open("w") as trace:
        driver.pgconn.trace(trace.fileno())
        driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield Database(url, engine, make_session_factory(engine)), exchanges
        finally:
            driver.pgconn.untrace()
            engine.dispose()
    sent: Exchange = []
    for line in trace_file.read_text().splitlines():
        if line.startswith("F\t"):
            sent.append(line)
        elif line.startswith("B\t") and line.split("\t")[2] == "ReadyForQuery":
            exchanges.append(sent)
            sent = []
        elif sent and not line.startswith("B\t"):
            sent[-1] += "\n" + line  # a statement's next line


def statements(exchange: Exchange) -> list[str]:
    """The first two words of each statement sent (BEGIN, "SELECT human_task.id," ...)."""
    found = [
        re.search(r'\t(?:Parse\t "[^"]*"|Query\t) "\s*([^\s"]+)\s*([^\s"]*)', s) for s in exchange
    ]
    return [" ".join(filter(None, m.groups())) for m in found if m]


def writes(exchange: Exchange) -> list[list[str]]:
    """What each data-modifying WITH query does, statement by statement, in order."""
    return [
        [" ".join(found) for found in re.findall(r"\bAS\s+\((UPDATE|INSERT INTO) (\w+)", sent)]
        for sent in exchange
        if re.search(r"\t(?:Parse|Query)\t", sent)
    ]


# An answer's writes: the answer's row with its audit event as one statement, sent before the
# workflow runs; then the state's row.
ANSWER_AND_EVENT = ["UPDATE human_task", "UPDATE audit_chain_head", "INSERT INTO audit_event"]
STATE = ["UPDATE process_instance"]


def answer_traced(
    procedures: Procedures, task_id: int, person: Participant, trace_file: Path
) -> list[Exchange]:
    """Answer a task as `person` on one traced connection; what was sent before each wait."""
    with server_exchanges(procedures.db.url, trace_file) as (db, exchanges):
        db.run(
            lambda s: complete_task(
                s, task_id, {"answer": "no_objection"}, participant=person, now=NOW
            )
        )
    return exchanges


def test_an_answer_read_afresh_waits_for_its_reads_and_sends_its_writes_with_them(
    procedures: Procedures, board: dict[str, Participant], tmp_path: Path
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    task = procedures.task(instance_id, "answer_task", "AL")
    version = procedures.instance(instance_id).lock_version
    kept_workflows.clear()  # as in a web process that did not save this instance last

    exchanges = answer_traced(procedures, task.id, board["AL"], tmp_path / "trace")

    assert [statements(e) for e in exchanges] == [
        ["BEGIN", "SELECT human_task.id,"],  # the task with its instance
        # The answer's row with its audit event, then the state, the rows refused unless
        # written, go with the next read: the instance's open inbox rows, not known after
        # a restore.
        ["WITH w0_written", "WITH w0_written", "SELECT human_task.id,"],
        ["COMMIT"],
    ]
    assert writes(exchanges[1])[:2] == [ANSWER_AND_EVENT, STATE]
    assert procedures.instance(instance_id).lock_version == version + 1
    assert [t.organisation for t in procedures.open_tasks(instance_id)] == ["BA", "XK"]


def test_an_answer_on_the_workflow_this_process_saved_last_waits_once(
    procedures: Procedures, board: dict[str, Participant], tmp_path: Path
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    task = procedures.task(instance_id, "answer_task", "AL")
    version = procedures.instance(instance_id).lock_version

    exchanges = answer_traced(procedures, task.id, board["AL"], tmp_path / "trace")

    # Nothing is read: the writes assert the rows as kept, in the transaction that the
    # server's Sync commits (no BEGIN, no COMMIT).
    assert [statements(e) for e in exchanges] == [["WITH w0_written", "WITH w0_written"]]
    assert writes(exchanges[0]) == [ANSWER_AND_EVENT, STATE]
    assert procedures.instance(instance_id).lock_version == version + 1
    assert [t.organisation for t in procedures.open_tasks(instance_id)] == ["BA", "XK"]


def test_a_step_that_opens_a_new_step_waits_also_for_its_row_and_who_to_tell(
    procedures: Procedures, make_person: Callable[..., Participant], tmp_path: Path
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    review = procedures.task(instance_id, "review")

    with server_exchanges(procedures.db.url, tmp_path / "trace") as (db, exchanges):
        db.run(
            lambda s: complete_task(
                s,
                review.id,
                {"approved": True, "comment": "Ready for the Board."},
                participant=secretariat,
                now=NOW,
            )
        )

    assert [statements(e) for e in exchanges] == [
        # Nothing read (as kept); what was queued goes with the new step's row, whose id
        # the ORM reads back; the BEGIN before it keeps the transaction open after the Sync.
        ["WITH w0_written", "WITH w0_written", "BEGIN", "INSERT INTO"],
        ["SELECT user_account.id,"],  # who holds the new step's role, to tell them
        ["COMMIT"],
    ]
    assert writes(exchanges[0])[:2] == [ANSWER_AND_EVENT, STATE]
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["acknowledge"]


def test_writes_begun_with_characteristics_of_their_own_begin_with_them(
    procedures: Procedures, tmp_path: Path
) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})

    with (
        server_exchanges(procedures.db.url, tmp_path / "trace") as (db, exchanges),
        db.engine.connect() as connection,
    ):
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=connection) as session:
            bump(session, session.get_one(ProcessInstance, instance_id), "repeatable")
            session.commit()

    assert [statements(e) for e in exchanges][-2:] == [
        ["BEGIN ISOLATION", "SELECT process_instance.id,"],
        ["WITH w0_head", "WITH w0_written", "COMMIT"],
    ]


@pytest.mark.parametrize("then", ["rollback", "close", "read, then roll back", "fail"])
def test_writes_that_went_before_any_begin_are_rolled_back_with_the_rest(
    procedures: Procedures, then: str
) -> None:
    db = procedures.db
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version
    events_before = events(db)
    row = db.run(lambda s: s.get_one(ProcessInstance, instance_id))
    notices: list[str] = []

    session = db.factory()
    session.add(row)  # as kept: nothing read, so the writes are the transaction's first
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    driver.add_notice_handler(lambda notice: notices.append(str(notice.message_primary)))
    bump(session, row, "abandoned")
    if then == "read, then roll back":  # the read's Sync leaves the transaction open
        assert session.scalar(text("SELECT 40 + 2")) == 42
        session.rollback()
    elif then == "fail":  # a later statement fails
        with pytest.raises(DBAPIError):
            session.execute(text("SELECT 1 / 0"))
        session.rollback()
    elif then == "rollback":
        session.rollback()
    session.close()  # (without a rollback first, the close rolls back)

    assert procedures.instance(instance_id).lock_version == before
    assert events(db) == events_before
    assert notices == []  # (no "there is no transaction in progress")
    assert db.run(lambda s: s.scalar(text("SELECT 40 + 2"))) == 42


def test_writes_queued_together_go_as_one_statement_but_never_two_to_one_row(
    procedures: Procedures, tmp_path: Path
) -> None:
    # PostgreSQL would make only one of two changes to a row in one statement.
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version
    events_before = events(procedures.db)

    with (
        server_exchanges(procedures.db.url, tmp_path / "trace") as (db, exchanges),
        db.session() as session,
    ):
        row = session.get_one(ProcessInstance, instance_id)
        with together(session.connection()):
            bump(session, row, "first")
            bump(session, row, "second")  # the event's head and the version: rows again
        session.commit()

    one_bump = ["UPDATE audit_chain_head", "INSERT INTO audit_event", "UPDATE process_instance"]
    sent = exchanges[-1]
    assert statements(sent) == ["WITH w0_head", "WITH w0_head", "COMMIT"]
    assert writes(sent) == [one_bump, one_bump, []]
    assert procedures.instance(instance_id).lock_version == before + 2
    assert events(procedures.db) == events_before + 2
    with procedures.db.session() as session:
        assert verify(session).intact


def test_a_read_in_a_block_of_writes_together_sees_them(procedures: Procedures) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version

    def step(session: Session) -> int | None:
        row = session.get_one(ProcessInstance, instance_id)
        with together(session.connection()):
            bump(session, row, "first")
            return session.scalar(
                select(ProcessInstance.lock_version).where(ProcessInstance.id == instance_id)
            )

    assert procedures.db.run(step) == before + 1


def test_a_write_refused_before_the_next_statement_is_raised_there_and_rolled_back(
    procedures: Procedures,
) -> None:
    db = procedures.db
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    row = db.run(lambda s: s.get_one(ProcessInstance, instance_id))  # as kept, at version n
    db.run(lambda other: bump(other, other.get_one(ProcessInstance, instance_id), "first"))
    events_before = events(db)

    with db.session() as late:
        late.add(row)  # nothing read: the writes begin the transaction
        bump(late, row, "late")
        time.sleep(0.3)  # the server's refusal is back before the next statement goes
        with pytest.raises(DBAPIError) as refused:
            late.execute(text("SELECT 1"))
        late.rollback()
        assert late.scalar(text("SELECT 40 + 2")) == 42  # the connection works on

    assert is_conflict(refused.value)
    assert events(db) == events_before


def test_a_block_of_writes_together_within_another_sends_its_writes_with_the_outer_one(
    procedures: Procedures, tmp_path: Path
) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version

    with (
        server_exchanges(procedures.db.url, tmp_path / "trace") as (db, exchanges),
        db.session() as session,
    ):
        row = session.get_one(ProcessInstance, instance_id)
        with together(session.connection()):
            audit.record(session, kind="test.step", actor="sec", now=NOW, instance_id=row.id)
            with together(session.connection()):
                move_version_on(session, row)
        session.commit()

    # Nothing held by the outer block is lost when the inner one ends: one statement.
    assert writes(exchanges[-1]) == [
        ["UPDATE audit_chain_head", "INSERT INTO audit_event", "UPDATE process_instance"],
        [],  # COMMIT
    ]
    assert procedures.instance(instance_id).lock_version == before + 1


def test_writes_held_in_a_block_left_by_an_error_are_not_dropped(procedures: Procedures) -> None:
    # A caller that handles the error and commits stores what the block wrote, as it would
    # have had each write gone on its own.
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version
    events_before = events(procedures.db)

    def step(session: Session) -> None:
        row = session.get_one(ProcessInstance, instance_id)
        with pytest.raises(RuntimeError), together(session.connection()):
            bump(session, row, "written before the error")
            raise RuntimeError("an error of the step's own, which its caller handles")

    procedures.db.run(step)

    assert procedures.instance(instance_id).lock_version == before + 1
    assert events(procedures.db) == events_before + 1


def test_writes_held_in_a_block_are_dropped_by_a_rollback_within_it(
    procedures: Procedures,
) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    before = procedures.instance(instance_id).lock_version
    events_before = events(procedures.db)

    with procedures.db.session() as session:
        row = session.get_one(ProcessInstance, instance_id)
        with together(session.connection()):
            bump(session, row, "given up")
            session.rollback()
        session.commit()  # (nothing of the block goes into the next transaction)

    assert procedures.instance(instance_id).lock_version == before
    assert events(procedures.db) == events_before
