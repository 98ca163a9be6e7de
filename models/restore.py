"""`iisg restore`: a backup file (`models.backup`) into an empty database, in one transaction.

Everything is checked before a row is written: the file is an IISG backup of this format,
the database is at the backup's Alembic revision and holds nothing yet, each table's columns
are the database's and its data matches its SHA-256 and row count. The tables are the
database's own, as its migrations made them, not this version's models: a backup made by an
earlier release restores into a database migrated to that release's revision, and `iisg db
upgrade` then takes it to this one. Any refusal
changes nothing. The source's scheduler passes are left out: no scheduler runs against the
new database until one starts there. On PostgreSQL the id sequences are moved past the
restored rows, so new rows get fresh ids.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from models.audit import GENESIS_HASH, AuditChainHead
from models.backup import (
    BATCH,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupSummary,
    database_revision,
    is_json,
    member_name,
)
from models.notifications import SchedulerPass

_FRESH = "Restore only into a new, empty database made with `iisg db upgrade`."
# A scheduler's passes say whether one runs against *this* database; the source's are checked
# with the rest of the file but not written, so none counts as running until one starts here.
_NOT_RESTORED = frozenset({SchedulerPass.__tablename__})
_ALEMBIC_VERSION = "alembic_version"


class RestoreRefused(Exception):
    """The backup was not restored, and nothing changed; the message says why."""


def _read_manifest(archive: zipfile.ZipFile, source: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as err:
        raise RestoreRefused(
            f"{source} is not an IISG backup (it has no readable manifest)"
        ) from err
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"{source} is not an IISG backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RestoreRefused(
            f"{source} is in backup format {manifest.get('format_version')}; this version of "
            f"IISG Procedures reads format {FORMAT_VERSION}"
        )
    return manifest


def database_tables(connection: Connection) -> list[Table]:
    """The database's own tables (as its migrations made them), parents before children."""
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name != _ALEMBIC_VERSION]


def _check_tables(manifest: dict[str, Any], tables: list[Table]) -> None:
    entries = manifest.get("tables", {})
    for table in tables:
        entry = entries.get(table.name)
        if entry is None:
            raise RestoreRefused(f"the backup has no table '{table.name}'")
        if sorted(entry["columns"]) != sorted(c.name for c in table.columns):
            raise RestoreRefused(
                f"the backup's table '{table.name}' has other columns than the database's; "
                "restore it into a database at the backup's revision"
            )


def _lines(archive: zipfile.ZipFile, table: Table) -> Iterator[bytes]:
    with archive.open(member_name(table)) as member:
        yield from member


def _check_data(archive: zipfile.ZipFile, manifest: dict[str, Any], tables: list[Table]) -> None:
    for table in tables:
        entry = manifest["tables"][table.name]
        digest, count = hashlib.sha256(), 0
        try:
            for line in _lines(archive, table):
                digest.update(line)
                count += 1
        except (KeyError, zipfile.BadZipFile, OSError) as err:
            raise RestoreRefused(
                f"the backup's table '{table.name}' cannot be read: {err}"
            ) from err
        if digest.hexdigest() != entry["sha256"] or count != entry["rows"]:
            raise RestoreRefused(
                f"the backup file is damaged or was changed: the data of table '{table.name}' "
                "does not match its checksum"
            )


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    if is_json(column):
        return lambda v: v
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return lambda v: v


def _insert_statement(connection: Connection, columns: list[Column[Any]]) -> Any:
    values: dict[str, ColumnElement[Any]] = {}
    for column in columns:
        param = bindparam(f"v_{column.name}", type_=Text) if is_json(column) else None
        if param is None:
            values[column.name] = bindparam(f"v_{column.name}", type_=column.type)
        elif connection.dialect.name == "postgresql":
            values[column.name] = cast(param, column.type)
        else:
            values[column.name] = param  # SQLite keeps JSON as its text
    return insert(columns[0].table).values(values)


def _restore_table(
    connection: Connection, archive: zipfile.ZipFile, table: Table, names_in_file: list[str]
) -> int:
    # A column a migration added sits last in the database but wherever the models put it in
    # the file: the file's order is the one its rows are in.
    columns = [table.columns[name] for name in names_in_file]
    names = [f"v_{c.name}" for c in columns]
    decoders = [_decoder(c) for c in columns]
    statement = _insert_statement(connection, columns)
    batch: list[dict[str, Any]] = []
    count = 0
    for line in _lines(archive, table):
        row = json.loads(line)
        batch.append({n: d(v) for n, d, v in zip(names, decoders, row, strict=True)})
        if len(batch) >= BATCH:
            connection.execute(statement, batch)
            count, batch = count + len(batch), []
    if batch:
        connection.execute(statement, batch)
        count += len(batch)
    return count


def _check_empty(connection: Connection, tables: list[Table]) -> None:
    filled = []
    for table in tables:
        query = select(func.count()).select_from(table)
        if table.name == AuditChainHead.__tablename__:  # the migration writes the empty head
            query = query.where((table.c.seq != 0) | (table.c.last_hash != GENESIS_HASH))
        rows = connection.scalar(query) or 0
        if rows:
            filled.append(f"{table.name}: {rows} row(s)")
    if filled:
        raise RestoreRefused(f"the database is not empty ({'; '.join(filled)}). {_FRESH}")


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": keys[0].name},
        )
        if sequence is None:
            continue
        top = connection.scalar(select(func.max(keys[0])))
        connection.execute(
            text("SELECT setval(:sequence, :value, :called)"),
            {"sequence": sequence, "value": top or 1, "called": top is not None},
        )


def restore_backup(engine: Engine, source: Path) -> BackupSummary:
    """Restore `source` into the empty database of `engine`, all or nothing."""
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as err:
        raise RestoreRefused(f"{source} cannot be read as an IISG backup: {err}") from err
    with archive:
        manifest = _read_manifest(archive, source)
        rows: dict[str, int] = {}
        try:
            _restore_into(engine, archive, manifest, rows)
        except SQLAlchemyError as err:
            reason = getattr(err, "orig", None) or err
            raise RestoreRefused(
                f"the backup could not be written into this database ({reason})"
            ) from err
    return BackupSummary(manifest["alembic_revision"], manifest["created_at"], rows)


def _restore_into(
    engine: Engine, archive: zipfile.ZipFile, manifest: dict[str, Any], rows: dict[str, int]
) -> None:
    """Check the database and write every table, in one transaction."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock now, so nobody writes between the checks and the rows.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        else:
            connection.exec_driver_sql("LOCK TABLE audit_chain_head IN EXCLUSIVE MODE")
        revision = database_revision(connection)
        if revision != manifest["alembic_revision"]:
            raise RestoreRefused(
                f"the backup was made at database revision {manifest['alembic_revision']} "
                f"but this database is at {revision or 'none'}. {_FRESH} Use the version of "
                "IISG Procedures that made the backup, then upgrade."
            )
        tables = database_tables(connection)
        _check_tables(manifest, tables)
        _check_data(archive, manifest, tables)
        _check_empty(connection, tables)
        connection.execute(delete(AuditChainHead))
        for table in tables:
            if table.name in _NOT_RESTORED:
                rows[table.name] = 0
                continue
            names = manifest["tables"][table.name]["columns"]
            rows[table.name] = _restore_table(connection, archive, table, names)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, tables)
        connection.commit()
