"""One loaded row written with one statement, only if what it was read with still holds.

The ORM's flush of a row costs more than the statement (docs/BENCHMARKS.md), and a plain
write cannot tell whether someone else changed the row since it was read. Here the UPDATE
names the values it read (a version, a status, a holder): if another writer got in first
no row matches, that is a conflict, and the unit of work starts again from what is stored
now. The loaded object is told the stored values, so the ORM agrees.

On PostgreSQL the server itself refuses a write whose row changed (SQLSTATE 40001, which the
unit of work retries like any conflict), so the write need not wait for its answer: it goes
with the step's other writes and the commit (models/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import CTE, ColumnElement, Table, Text, Update, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import HumanTask, ProcessInstance
from models.pipeline import Write, can_queue, queue


@cache
def _statement(
    table: Table, guards: tuple[str, ...], columns: tuple[str, ...], prefix: str = ""
) -> Update:
    """UPDATE `columns` of the row with this id whose `guards` still hold (built once), its
    parameters' names after `prefix`."""
    return (
        update(table)
        .where(
            table.c.id == bindparam(f"{prefix}row_id"),
            *(
                table.c[name].is_not_distinct_from(bindparam(f"{prefix}read_{name}"))
                for name in guards
            ),
        )
        .values(
            {name: bindparam(f"{prefix}new_{name}", type_=table.c[name].type) for name in columns}
        )
    )


@cache
def _refused_unless_written(
    table: Table, guards: tuple[str, ...], columns: tuple[str, ...], prefix: str
) -> tuple[Sequence[CTE], Sequence[ColumnElement[Any]]]:
    """PostgreSQL: the same UPDATE as a WITH query (its parameters' names after `prefix`),
    and the check after it: the server raises the refusal with SQLSTATE 40001 unless it
    wrote one row (the function iisg_one_row_written, migration 0012)."""
    written = (
        _statement(table, guards, columns, prefix).returning(table.c.id).cte(f"{prefix}written")
    )
    count = select(func.count()).select_from(written).scalar_subquery()
    refusal = bindparam(f"{prefix}refusal", type_=Text())
    return [written], [func.iisg_one_row_written(count, refusal)]


def write_or_conflict(
    session: Session,
    row: HumanTask | ProcessInstance,
    read: dict[str, Any],
    values: dict[str, Any],
    conflict: Callable[[], Exception],
) -> None:
    """Write `values` to `row` if its columns still hold what `read` says; a conflict if not.

    `conflict()` is raised here; on PostgreSQL the write is queued instead, and the server
    refuses it with SQLSTATE 40001 (and conflict()'s words) at the unit of work's next
    statement or at its commit. Either way the unit of work starts again.
    """
    table = cast(Table, type(row).__table__)
    parameters = {
        "row_id": row.id,
        **{f"read_{name}": value for name, value in read.items()},
        **{f"new_{name}": value for name, value in values.items()},
    }
    connection = session.connection()
    if can_queue(connection):
        guards, columns = tuple(read), tuple(values)
        queue(
            connection,
            Write(
                shape=("guarded write", table.name, guards, columns),
                parts=partial(_refused_unless_written, table, guards, columns),
                parameters={**parameters, "refusal": str(conflict())},
                row=(table.name, row.id),
            ),
        )
    else:
        written = connection.execute(_statement(table, tuple(read), tuple(values)), parameters)
        if written.rowcount != 1:
            raise conflict()
    for name, value in values.items():
        set_committed_value(row, name, value)
