"""On PostgreSQL, a unit of work waits on the server as few times as its reads need.

Each statement sent on its own waits a round trip for its answer, and SQLAlchemy's execution
of it costs more than the statement itself (docs/BENCHMARKS.md). A step's writes need no
answer: a write that must find its row unchanged is refused by the server itself (SQLSTATE
40001, a conflict the unit of work retries), and the audit event returns nothing anyone
reads. `queue` hands such a statement to psycopg's pipeline mode, compiled once, and it
goes to the server with whatever comes next: the next statement, or the COMMIT.

So a transaction waits once for each statement whose answer is read, and once for its
commit unless that went with them: its BEGIN goes with its first statement, and what is
queued goes with the next statement or with the commit. psycopg cannot send a BEGIN or a
COMMIT that way itself: in pipeline mode it sends the BEGIN it adds before a first statement,
and the COMMIT of `commit()`, each with a Sync of its own and waits for them. So the
connection is set to leave transactions to its caller (`autocommit`), and the BEGIN and
COMMIT are written here as statements of the pipeline.

A transaction that only writes needs neither: the server runs every statement it receives
before a Sync in one transaction, which the Sync commits, or rolls back when one of them
failed (the protocol's implicit transaction; docs/BENCHMARKS.md, eighth round). So writes
queued first go without a BEGIN, and the commit is the Sync alone. Anything else that would
close the pipeline first sends a BEGIN into it, which makes the transaction the writes run
in an explicit one that the Sync leaves open (a read, a statement psycopg runs on its own);
a rollback sends BEGIN and ROLLBACK before the Sync, so the Sync commits nothing.

Writes queued in a `together` block go as one statement when the block ends (or before a
statement within it): each is a data-modifying WITH query of it, and the checks of the
guarded ones are selected after them, so psycopg handles one statement instead of several
(docs/BENCHMARKS.md, eighth round). Two writes to one row never share a statement
(PostgreSQL would make only one of them).

Nothing else changes order or meaning: a statement sent after queued writes runs after them
and sees them; an error of a queued write is raised by the next statement or by the commit,
before anything is committed, and the rest of the pipeline is not run. A rollback drops the
pipeline with whatever it held. Elsewhere (SQLite, a connection without a transaction, a
savepoint) `can_queue` says no and the caller executes as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from sqlalchemy import CTE, ColumnElement, Connection, Engine, event, literal_column, select
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# A connection's pipeline with writes queued, kept in its pool record's info; and the one a
# statement is being sent in (with what was queued before it, or its transaction's BEGIN).
_OPEN = "iisg_pipeline"
_SENDING = "iisg_pipeline_sending"
# The writes of a `together` block not sent yet (a list of Write).
_HELD = "iisg_writes_held"


class _Pipeline:
    """A pipeline open on a connection. With `begin`, a transaction begun as its first
    statement (what psycopg would send before a statement, without waiting for it); while
    `implicit`, its statements run in the implicit transaction (no BEGIN sent yet), which
    the Sync that closes the pipeline commits."""

    def __init__(self, driver: psycopg.Connection[Any], *, begin: bool, implicit: bool) -> None:
        if (begin or implicit) and not driver.autocommit:
            driver.autocommit = True  # the transaction is ours (allowed while idle)
        self._driver = driver
        self._stack = ExitStack()
        self._stack.enter_context(driver.pipeline())
        self.implicit = implicit
        if begin:
            driver.execute(_begin_statement(driver), prepare=False)

    def explicit(self) -> _Pipeline:
        """The transaction made explicit (BEGIN), so that the Sync to come leaves it open."""
        if self.implicit:
            self._driver.execute(b"BEGIN", prepare=False)
            self.implicit = False
        return self

    def send(self) -> None:
        """Send everything, Sync, and wait for all of it (raising a statement's error)."""
        self._stack.close()

    def commit(self) -> None:
        """Send everything and commit: the Sync commits an implicit transaction."""
        with self._stack:  # (closed, sending and waiting, even if an error comes back first)
            if not self.implicit:
                self._driver.execute(b"COMMIT", prepare=False)

    def abandon(self) -> None:
        """Close the pipeline with nothing of the transaction committed (errors are moot)."""
        with suppress(psycopg.Error):  # what failed is rolled back with the rest
            if self.implicit:
                self._driver.execute(b"BEGIN", prepare=False)
                self._driver.execute(b"ROLLBACK", prepare=False)
        with suppress(psycopg.Error):
            self.send()


@dataclass(frozen=True)
class _Compiled:
    """A statement as psycopg takes it, and how each of its parameters is converted."""

    sql: str
    defaults: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]

    def parameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = {**self.defaults, **given}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


@dataclass(frozen=True)
class Write:
    """A write whose answer nobody reads, as parts of a statement that other writes can join.

    `parts(prefix)` builds its data-modifying WITH queries and the checks to select after
    them (each raising, or returning anything), with every bind parameter's name and every
    WITH query's name beginning with `prefix`; `parameters` are its values by name without
    the prefix. Writes of one `shape` have the same parts. `row` names the row it changes:
    two writes to one row never go in one statement."""

    shape: Hashable
    parts: Callable[[str], tuple[Sequence[CTE], Sequence[ColumnElement[Any]]]]
    parameters: Mapping[str, Any]
    row: Hashable


# A statement of writes is built and compiled once for each sequence of shapes.
_statements: dict[tuple[Hashable, ...], _Compiled] = {}


def _statement_of(writes: Sequence[Write], dialect: Dialect) -> _Compiled:
    shapes = tuple(write.shape for write in writes)
    found = _statements.get(shapes)
    if found is None:
        queries: list[CTE] = []
        checks: list[ColumnElement[Any]] = []
        for number, write in enumerate(writes):
            more_queries, more_checks = write.parts(f"w{number}_")
            queries.extend(more_queries)
            checks.extend(more_checks)
        statement = select(*(checks or [literal_column("1")])).add_cte(*queries)
        found = _statements[shapes] = _compile(statement, dialect)
    return found


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if compiled.escaped_bind_names or compiled.positional:
        raise ValueError(f"cannot queue a statement with these parameters: {compiled.string}")
    defaults: dict[str, Any] = {}
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        if not bind.required:  # a value written in the statement itself (seq + 1)
            defaults[name] = bind.effective_value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    return _Compiled(compiled.string, defaults, processors)


def can_queue(connection: Connection) -> bool:
    """True where `connection` can queue writes: PostgreSQL, in a transaction of its own."""
    if connection.dialect.name != "postgresql" or connection.in_nested_transaction():
        return False
    # Outside a transaction each statement commits as it runs: nothing would send the queue.
    return not _autocommit(connection)


@contextmanager
def together(connection: Connection) -> Iterator[None]:
    """Writes queued in this block go to the server as one statement when it ends (or
    before a statement of the connection within it; only where can_queue), however it ends:
    left by an error, they are in the transaction as a write sent on its own would be, and
    a rollback drops them with the rest. Within another block, they go with that block's."""
    if _HELD in connection.info:
        yield
        return
    connection.info[_HELD] = []
    try:
        yield
    finally:
        # (A connection closed within the block, by a rollback of its session, went back to
        # the pool without them; a lost connection's transaction went with it.)
        if not connection.closed:
            try:
                if not connection.invalidated:
                    _send_held(connection)
            finally:
                connection.info.pop(_HELD, None)


def queue(connection: Connection, write: Write) -> None:
    """Send a write whose answer nobody reads into the pipeline (only where can_queue), or
    hold it with the others of a `together` block."""
    held: list[Write] | None = connection.info.get(_HELD)
    if held is None:
        _send(connection, [write])
        return
    if any(other.row == write.row for other in held):
        _send_held(connection)
    held.append(write)


def _send_held(connection: Connection) -> None:
    held: list[Write] | None = connection.info.get(_HELD)
    if held:
        writes = list(held)
        held.clear()
        _send(connection, writes)


def _send(connection: Connection, writes: Sequence[Write]) -> None:
    """The writes as one statement into the pipeline (opened if need be)."""
    driver = _driver(connection)
    if _OPEN not in connection.info:
        # A transaction still to begin runs its writes in the implicit one, unless it must
        # begin with characteristics of its own (an isolation level...).
        idle = _idle(driver)
        implicit = idle and _begin_statement(driver) == b"BEGIN"
        begin = idle and not implicit
        connection.info[_OPEN] = _Pipeline(driver, begin=begin, implicit=implicit)
    compiled = _statement_of(writes, connection.dialect)
    parameters = {
        f"w{number}_{name}": value
        for number, write in enumerate(writes)
        for name, value in write.parameters.items()
    }
    try:
        driver.execute(compiled.sql, compiled.parameters(parameters))
    except psycopg.Error as err:  # an earlier write's, if its answer came back already
        raise _as_sqlalchemy(err, compiled.sql, connection) from err


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    return driver


def _before_statement(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """A statement goes into the pipeline of what is queued, or into a new one after its
    transaction's BEGIN; `_after_statement` then sends it and waits once for all of it."""
    _drop(connection.info, _SENDING)  # left open only by a statement that failed
    _send_held(connection)  # (in a `together` block; raised here, SQLAlchemy wraps an error)
    pipeline: _Pipeline | None = connection.info.pop(_OPEN, None)
    driver = _driver(connection)
    if executemany or isinstance(cursor, psycopg.ServerCursor):  # (not in a pipeline)
        if pipeline is not None:
            # Raised here, SQLAlchemy wraps a queued write's error as it would its own (and
            # the rollback that follows finds the pipeline where it closes it).
            connection.info[_SENDING] = pipeline
            pipeline.explicit().send()
            del connection.info[_SENDING]
        if driver.autocommit and _idle(driver) and not _autocommit(connection):
            driver.autocommit = False  # psycopg begins the transaction itself
        return statement, parameters
    if pipeline is None:
        if not _idle(driver) or _autocommit(connection):
            return statement, parameters  # in a transaction already, or none wanted
        pipeline = _Pipeline(driver, begin=True, implicit=False)
    connection.info[_SENDING] = pipeline  # (before its BEGIN, which may raise a write's error)
    pipeline.explicit()
    return statement, parameters


def _idle(driver: psycopg.Connection[Any]) -> bool:
    return driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def _autocommit(connection: Connection) -> bool:
    """True when SQLAlchemy runs this connection without transactions (by its own execution
    option, or its engine's)."""
    level = connection.get_execution_options().get("isolation_level")
    return (level or _engine_isolation_level(connection.engine)) == "AUTOCOMMIT"


def _engine_isolation_level(engine: Engine) -> str | None:
    """The isolation level create_engine(isolation_level=...) set, if any."""
    return getattr(engine.dialect, "_on_connect_isolation_level", None)


def _begin_statement(driver: psycopg.Connection[Any]) -> bytes:
    """BEGIN with the connection's transaction characteristics, as psycopg writes it."""
    parts = [b"BEGIN"]
    if driver.isolation_level is not None:
        level = psycopg.IsolationLevel(driver.isolation_level).name.replace("_", " ")
        parts.append(b"ISOLATION LEVEL " + level.encode())
    if driver.read_only is not None:
        parts.append(b"READ ONLY" if driver.read_only else b"READ WRITE")
    if driver.deferrable is not None:
        parts.append(b"DEFERRABLE" if driver.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _after_statement(
    connection: Connection,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    """The statement is in the pipeline: send it with what went before and wait for all of it
    before SQLAlchemy reads its result. (Raised here, SQLAlchemy wraps the error of a queued
    write or of the statement as it would any of the driver's.)"""
    pipeline: _Pipeline | None = connection.info.pop(_SENDING, None)
    if pipeline is not None:
        pipeline.send()


def _before_commit(connection: Connection) -> None:
    """The commit goes with the queued writes; their errors are raised before it counts."""
    _send_held(connection)
    pipeline: _Pipeline | None = connection.info.pop(_OPEN, None)
    if pipeline is None:
        return
    try:
        pipeline.commit()  # sends everything and waits once
    except psycopg.Error as err:
        raise _as_sqlalchemy(err, "COMMIT", connection) from err


def _as_sqlalchemy(err: psycopg.Error, sql: str, connection: Connection) -> StatementError:
    """The error as SQLAlchemy raises the driver's: the unit of work tells a conflict by it."""
    return DBAPIError.instance(sql, None, err, psycopg.Error, dialect=connection.dialect)


def _before_rollback(connection: Connection) -> None:
    """A rollback drops what is queued: the pipeline is closed and its errors are moot."""
    if not connection.invalidated:  # (a lost connection's pipeline went with it)
        if _HELD in connection.info:
            connection.info[_HELD] = []  # (dropped with the rest, not sent after it)
        _drop(connection.info, _OPEN, _SENDING)


def _on_reset(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _state: Any) -> None:
    """A connection going back to the pool leaves no pipeline open and no write held."""
    record.info.pop(_HELD, None)
    _drop(record.info, _OPEN, _SENDING)


def _drop(info: dict[Any, Any], *keys: str) -> None:
    for key in keys:
        pipeline: _Pipeline | None = info.pop(key, None)
        if pipeline is not None:
            pipeline.abandon()


def enable(engine: Engine) -> None:
    """Let a PostgreSQL engine queue writes until its next statement or commit, and send a
    transaction's BEGIN with its first statement."""
    if _engine_isolation_level(engine) == "AUTOCOMMIT":
        # Its connections are in autocommit mode from the start: nothing here would tell
        # them from connections that this module begins transactions on.
        raise ValueError("an engine without transactions cannot queue writes")
    event.listen(engine, "before_cursor_execute", _before_statement, retval=True)
    event.listen(engine, "after_cursor_execute", _after_statement)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine.pool, "reset", _on_reset)
