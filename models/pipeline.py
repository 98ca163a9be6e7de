"""On PostgreSQL, a step's writes go to the server together, with the commit.

Each statement sent on its own waits a round trip for its answer, and SQLAlchemy's execution
of it costs more than the statement itself (docs/BENCHMARKS.md). A step's writes need no
answer: a write that must find its row unchanged is refused by the server itself (SQLSTATE
40001, a conflict the unit of work retries), and the audit event returns nothing anyone
reads. `queue` hands such a statement to psycopg's pipeline mode, compiled once, and the
commit goes with everything queued in one round trip.

The BEGIN that psycopg sends before a transaction's first statement goes with that statement
in the same way, instead of a round trip of its own.

Nothing else changes order or meaning: any other statement on the connection (a read, the
ORM's flush) first sends what is queued and waits for it, so it sees those writes, and an
error of a queued write is raised there or at the commit, before anything is committed. A
rollback drops the pipeline with whatever it held. Elsewhere (SQLite, a connection without
a transaction, a savepoint) `can_queue` says no and the caller executes as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# The open pipeline of a connection, kept in its pool record's info; and the one a
# transaction's first statement is sent in, with its BEGIN.
_OPEN = "iisg_pipeline"
_BEGINNING = "iisg_pipeline_begin"


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


# Statements are built once (module constants, functools.cache), so each is compiled once.
_compiled: dict[int, tuple[ClauseElement, _Compiled]] = {}


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    found = _compiled.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
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
    result = _Compiled(compiled.string, defaults, processors)
    _compiled[id(statement)] = (statement, result)
    return result


def can_queue(connection: Connection) -> bool:
    """True where `connection` can queue writes: PostgreSQL, in a transaction of its own."""
    if connection.dialect.name != "postgresql" or connection.in_nested_transaction():
        return False
    # Outside a transaction each statement commits as it runs: nothing would send the queue.
    return connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"


def queue(connection: Connection, statement: ClauseElement, parameters: Mapping[str, Any]) -> None:
    """Send a write whose answer nobody reads into the pipeline (only where can_queue)."""
    driver = _driver(connection)
    if _OPEN not in connection.info:
        stack = ExitStack()
        stack.enter_context(driver.pipeline())
        connection.info[_OPEN] = stack
    compiled = _compile(statement, connection.dialect)
    try:
        driver.execute(compiled.sql, compiled.parameters(parameters))
    except psycopg.Error as err:  # an earlier queued write's, if its answer came back already
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
    """Any other statement first sends what is queued and waits for it; the first of a
    transaction is sent together with its BEGIN."""
    _drop(connection.info, _BEGINNING)  # left open only by a first statement that failed
    stack: ExitStack | None = connection.info.pop(_OPEN, None)
    if stack is not None:
        # Raised here, SQLAlchemy wraps a queued write's error as it would its own.
        stack.close()
    driver = _driver(connection)
    if (
        not executemany
        and not isinstance(cursor, psycopg.ServerCursor)  # (streamed results: no pipeline)
        and not driver.autocommit
        and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ):
        stack = ExitStack()
        stack.enter_context(driver.pipeline())
        connection.info[_BEGINNING] = stack
    return statement, parameters


def _after_statement(
    connection: Connection,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    """The first statement of a transaction and its BEGIN have been sent: wait for both
    before SQLAlchemy reads the result."""
    stack: ExitStack | None = connection.info.pop(_BEGINNING, None)
    if stack is not None:
        stack.close()


def _before_commit(connection: Connection) -> None:
    """The commit goes with the queued writes; their errors are raised before it counts."""
    stack: ExitStack | None = connection.info.pop(_OPEN, None)
    if stack is None:
        return
    try:
        with stack:
            _driver(connection).commit()
    except psycopg.Error as err:
        raise _as_sqlalchemy(err, "COMMIT", connection) from err


def _as_sqlalchemy(err: psycopg.Error, sql: str, connection: Connection) -> StatementError:
    """The error as SQLAlchemy raises the driver's: the unit of work tells a conflict by it."""
    return DBAPIError.instance(sql, None, err, psycopg.Error, dialect=connection.dialect)


def _before_rollback(connection: Connection) -> None:
    """A rollback drops what is queued: the pipeline is closed and its errors are moot."""
    if not connection.invalidated:  # (a lost connection's pipeline went with it)
        _drop(connection.info, _OPEN, _BEGINNING)


def _on_reset(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _state: Any) -> None:
    """A connection going back to the pool leaves no pipeline open."""
    _drop(record.info, _OPEN, _BEGINNING)


def _drop(info: dict[Any, Any], *keys: str) -> None:
    for key in keys:
        stack: ExitStack | None = info.pop(key, None)
        if stack is not None:
            with suppress(psycopg.Error):  # what failed is rolled back with the rest
                stack.close()


def enable(engine: Engine) -> None:
    """Let a PostgreSQL engine queue writes until its next statement or commit, and send a
    transaction's BEGIN with its first statement."""
    event.listen(engine, "before_cursor_execute", _before_statement, retval=True)
    event.listen(engine, "after_cursor_execute", _after_statement)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine.pool, "reset", _on_reset)
