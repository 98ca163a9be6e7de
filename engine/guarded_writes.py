"""One loaded row written with one statement, only if what it was read with still holds.

The ORM's flush of a row costs more than the statement (docs/BENCHMARKS.md), and a plain
write cannot tell whether someone else changed the row since it was read. Here the UPDATE
names the values it read (a version, a status, a holder): if another writer got in first
no row matches, the caller raises a conflict, and the unit of work starts again from what
is stored now. The loaded object is then told the stored values, so the ORM agrees.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import HumanTask, ProcessInstance


@cache
def _statement(table: Table, guards: tuple[str, ...], columns: tuple[str, ...]) -> Update:
    """UPDATE `columns` of the row with this id whose `guards` still hold (built once)."""
    return (
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            *(table.c[name].is_not_distinct_from(bindparam(f"read_{name}")) for name in guards),
        )
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
    )


def write_if_unchanged(
    session: Session,
    row: HumanTask | ProcessInstance,
    read: dict[str, Any],
    values: dict[str, Any],
) -> bool:
    """Write `values` to `row` if its columns still hold what `read` says; False if not."""
    table = cast(Table, type(row).__table__)
    parameters = {
        "row_id": row.id,
        **{f"read_{name}": value for name, value in read.items()},
        **{f"new_{name}": value for name, value in values.items()},
    }
    written = session.connection().execute(
        _statement(table, tuple(read), tuple(values)), parameters
    )
    if written.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
