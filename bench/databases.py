"""Fresh databases for a bench run, made ready the way a running system would be, and rows
cloned in bulk so that thousands of instances exist without running thousands of procedures."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    cast,
    create_engine,
    literal,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeEngine

# Where `make bench` finds PostgreSQL unless IISG_BENCH_POSTGRESQL_URL names another server.
LOCAL_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/postgres"


def now() -> datetime:
    """The wall clock, in UTC (the bench measures real time)."""
    return datetime.now(UTC)


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="iisg-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"


def postgresql_server() -> str | None:
    """The PostgreSQL server to measure on (IISG_BENCH_POSTGRESQL_URL), None when unreachable."""
    server = os.environ.get("IISG_BENCH_POSTGRESQL_URL", "").strip() or LOCAL_POSTGRESQL
    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    probe = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as err:
        print(f"PostgreSQL at {url.render_as_string()} is not reachable: {err.orig}")
        return None
    finally:
        probe.dispose()
    return server


@contextmanager
def postgresql_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"iisg_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine a session factory is bound to."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


def settle(factory: sessionmaker[Session], tables: str) -> None:
    """Leave the database as a running system would be after a bulk change: SQLite's
    write-ahead log copied back, PostgreSQL's tables vacuumed and their statistics fresh.
    Otherwise the first requests after cloning pay for the clone, not for what is stored."""
    engine = engine_of(factory)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text(f"VACUUM ANALYZE {tables}"))
            # The bulk change's pages written out now, not by a checkpoint mid-measurement
            # (a superuser's right; without it the server writes them when it will).
            with suppress(ProgrammingError):
                autocommit.execute(text("CHECKPOINT"))
        else:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def bound(value: Any, type_: TypeEngine[Any], dialect: str) -> ColumnElement[Any]:
    """A constant for a SELECT list. PostgreSQL needs its type; SQLite's CAST would turn a
    stored date into a number, so it gets the plain value."""
    value_literal = literal(value, type_)
    return cast(value_literal, type_) if dialect == "postgresql" else value_literal


def each_database() -> Iterator[tuple[str, str]]:
    """("sqlite", url), then ("postgresql", url) when a server is reachable; each fresh, and
    removed once the caller moves on."""
    with sqlite_database() as url:
        yield "sqlite", url
    server = postgresql_server()
    if server is not None:
        with postgresql_database(server) as url:
            yield "postgresql", url


@contextmanager
def fresh_database(kind: str, server: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the PostgreSQL `server`."""
    if kind == "sqlite":
        with sqlite_database() as url:
            yield url
    else:
        assert server is not None
        with postgresql_database(server) as url:
            yield url
