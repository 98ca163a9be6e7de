"""`iisg backup`: every table, read in one transaction, into one portable file.

The file is a zip holding `manifest.json` (format version, Alembic revision, when, and for
each table its columns, row count and the SHA-256 of its data) and one JSON-lines member per
table (`tables/<name>.jsonl`, one array of values a row, in primary-key order). The same file
restores into SQLite or PostgreSQL (`models.restore`). Rows are streamed in batches, so memory
stays flat however large the database.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Column, Connection, Engine, Table, Text, cast, select

from models.base import Base

FORMAT = "iisg-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000


class BackupError(Exception):
    """The backup could not be written; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds: its revision, and rows per table."""

    revision: str
    created_at: str
    rows: dict[str, int]

    @property
    def total_rows(self) -> int:
        """Rows in every table together."""
        return sum(self.rows.values())


def member_name(table: Table) -> str:
    """The zip member holding a table's rows."""
    return f"tables/{table.name}.jsonl"


def is_json(column: Column[Any]) -> bool:
    """JSON columns travel as their exact stored text, so SQL NULL and JSON null stay apart."""
    return isinstance(column.type, JSON)


def encode_value(value: Any) -> Any:
    """A column value as JSON: datetimes and dates in ISO 8601 (with their offset)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def database_revision(connection: Connection) -> str:
    """The Alembic revision the database is at ('' when it has none)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads))


def _rows(connection: Connection, table: Table) -> Iterator[list[Any]]:
    columns = [cast(c, Text) if is_json(c) else c for c in table.columns]
    query = select(*columns).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH).execute(query)
    for row in result:
        yield [encode_value(v) for v in row]


def _snapshot_connection(engine: Engine) -> Connection:
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def _begin_snapshot(connection: Connection) -> None:
    # One snapshot for every table, so the audit chain, the instances and their timers match.
    if connection.dialect.name == "sqlite":
        # pysqlite opens no transaction for reads on its own; a WAL read transaction is a
        # snapshot from its first read to its end.
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def write_backup(engine: Engine, target: Path, *, created_at: datetime) -> BackupSummary:
    """Write every table of the database to `target` (refused if it exists)."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file name or remove it")
    partial = target.with_name(target.name + ".partial")
    tables: dict[str, dict[str, Any]] = {}
    try:
        with (
            _snapshot_connection(engine) as connection,
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        ):
            _begin_snapshot(connection)
            revision = database_revision(connection)
            for table in Base.metadata.sorted_tables:
                digest, count = hashlib.sha256(), 0
                with archive.open(member_name(table), "w", force_zip64=True) as member:
                    for row in _rows(connection, table):
                        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
                        data = line.encode("utf-8")
                        digest.update(data)
                        member.write(data)
                        count += 1
                tables[table.name] = {
                    "columns": [c.name for c in table.columns],
                    "rows": count,
                    "sha256": digest.hexdigest(),
                }
            connection.rollback()
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "alembic_revision": revision,
                "created_at": created_at.isoformat(),
                "database": engine.dialect.name,
                "tables": tables,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupSummary(
        revision, created_at.isoformat(), {name: t["rows"] for name, t in tables.items()}
    )
