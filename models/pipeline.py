"""On PostgreSQL, a step's writes go to the server together, with the commit.

Each statement sent on its own waits a round trip for its answer. A step's writes need none
of theirs: a write that must find its row unchanged is refused by the server itself (the
statement raises SQLSTATE 40001, a conflict the unit of work retries), and the audit event
returns nothing anyone reads. Such statements are executed with `PIPELINED` as execution
options: psycopg's pipeline mode queues them, and the commit goes with them in one round
trip (docs/BENCHMARKS.md).

Nothing else changes order or meaning: any other statement on the connection (a read, the
ORM's flush) first sends what is queued and waits for it, so it sees those writes, and an
error of a queued write is raised there or at the commit, before anything is committed. A
rollback drops the pipeline with whatever it held.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection, ExecutionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

PIPELINED_OPTION = "iisg_pipelined"
PIPELINED: dict[str, Any] = {PIPELINED_OPTION: True}
# The open pipeline of a connection, kept in its pool record's info.
_OPEN = "iisg_pipeline"


def pipelined(connection: Connection) -> dict[str, Any]:
    """PIPELINED where `connection` can queue writes (PostgreSQL, in a transaction); else none."""
    if connection.dialect.name != "postgresql" or connection.in_nested_transaction():
        return {}
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # Each statement commits as it runs: nothing would send what is queued.
        return {}
    return PIPELINED


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    return driver


def _before_statement(
    connection: Connection,
    _cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    _executemany: bool,
) -> tuple[str, Any]:
    """Open a pipeline for a queued write; send and wait for it before any other statement."""
    queued = context is not None and context.execution_options.get(PIPELINED_OPTION, False)
    stack: ExitStack | None = connection.info.get(_OPEN)
    if queued and stack is None:
        stack = ExitStack()
        stack.enter_context(_driver(connection).pipeline())
        connection.info[_OPEN] = stack
    elif not queued and stack is not None:
        # Raised here, SQLAlchemy wraps a queued write's error as it would have its own.
        del connection.info[_OPEN]
        stack.close()
    return statement, parameters


def _before_commit(connection: Connection) -> None:
    """The commit goes with the queued writes; their errors are raised before it counts."""
    stack: ExitStack | None = connection.info.pop(_OPEN, None)
    if stack is None:
        return
    try:
        with stack:
            _driver(connection).commit()
    except psycopg.Error as err:
        raise DBAPIError.instance(
            "COMMIT", None, err, psycopg.Error, dialect=connection.dialect
        ) from err


def _before_rollback(connection: Connection) -> None:
    """A rollback drops what is queued: the pipeline is closed and its errors are moot."""
    _drop(connection.info)


def _on_reset(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _state: Any) -> None:
    """A connection going back to the pool leaves no pipeline open."""
    _drop(record.info)


def _drop(info: dict[Any, Any]) -> None:
    stack: ExitStack | None = info.pop(_OPEN, None)
    if stack is None:
        return
    with suppress(psycopg.Error):  # what failed is rolled back with the rest
        stack.close()


def enable(engine: Engine) -> None:
    """Let a PostgreSQL engine queue PIPELINED writes until the next statement or commit."""
    event.listen(engine, "before_cursor_execute", _before_statement, retval=True)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine.pool, "reset", _on_reset)
