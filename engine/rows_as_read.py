"""Rows as a read of them gives them: taken from the objects a unit of work read or
inserted, kept in memory, and put back into a later session without reading (see
engine/kept_workflows.py and runtime.load_kept_for_task)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import inspect as inspect_orm
from sqlalchemy.orm import ColumnProperty, Session, make_transient_to_detached

from engine.kept_workflows import RowValues
from models import ProcessDefinition
from models.base import Base

# The columns of a version that never change once it is deployed (engine/deploy.py writes
# them once); the rest (its status, when it was activated, ...) are read when asked for.
DEFINITION_UNCHANGING = (
    "id",
    "process_key",
    "version",
    "content_hash",
    "source_name",
    "files",
    "created_at",
    "created_by",
)


@cache
def column_attributes(model: type[Base]) -> tuple[ColumnProperty[Any], ...]:
    """The mapped columns of a model, in their order."""
    return tuple(inspect_orm(model).column_attrs)


@cache
def asserted_columns(model: type[Base]) -> tuple[str, ...]:
    """The columns an answer asserts of an inbox row it did not read: all but its id and
    its JSON (an open row's answer is empty; its status says so)."""
    return tuple(
        attribute.key
        for attribute in column_attributes(model)
        if attribute.key != "id" and not isinstance(attribute.columns[0].type, JSON)
    )


def row_values(row: Any) -> RowValues | None:
    """A row's column values as a read of it would give them, from the object that was read
    or just inserted; None when one is not known (expired, or given by the database)."""
    state = inspect_orm(row)
    values: RowValues = {}
    for attribute in column_attributes(state.mapper.class_):
        key = attribute.key
        if key in state.dict:
            value = state.dict[key]
        else:
            column = attribute.columns[0]
            if (
                key in state.expired_attributes
                or attribute.deferred
                or column.default is not None
                or column.server_default is not None
            ):
                return None
            value = None  # inserted without it: NULL
        values[key] = value.astimezone(UTC) if isinstance(value, datetime) else value
    return values


def unchanging_columns(definition: ProcessDefinition) -> RowValues | None:
    """A version's columns that never change, as loaded; None when one is not loaded."""
    known = definition.__dict__
    if any(key not in known for key in DEFINITION_UNCHANGING):
        return None
    return {key: known[key] for key in DEFINITION_UNCHANGING}


def attached(session: Session, model: type[Base], values: RowValues) -> Any:
    """A row of `model` with these column values, in the session as if read (no statement);
    a column left out is read when first asked for."""
    row = inspect_orm(model).class_manager.new_instance()
    row.__dict__.update(
        {key: dict(value) if isinstance(value, dict) else value for key, value in values.items()}
    )
    make_transient_to_detached(row)
    session.add(row)
    return row
