"""Database engine and session factory for the database URL the configuration names."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

# A pooled connection back from use less than this long ago is not pinged before its next
# use (as HikariCP does): under load a ping per checkout is a round trip per unit of work,
# and a connection that dies in between is caught where it fails (engine/unit_of_work.py).
PING_AFTER_IDLE_S = 1.0
_LAST_USED = "iisg_last_used"


def database_url(configured: str | None, instance_dir: Path) -> str:
    """The database URL to use: `configured` (postgresql:// meaning psycopg 3), else SQLite in
    `instance_dir` (made if need be)."""
    if configured:
        if configured.startswith("postgresql://"):
            return "postgresql+psycopg://" + configured.removeprefix("postgresql://")
        return configured
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(instance_dir / 'iisg.sqlite3').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Said, not left to how SQLite was built: a commit is on disk before it is acknowledged.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, ping_after_idle_s: float = PING_AFTER_IDLE_S, **kwargs: Any) -> Engine:
    """An engine for the URL, with SQLite made safe for several threads and processes, and
    a server's connections checked before use when they have been idle."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        # The connection back last is handed out next: under light load the same few stay
        # in use (their server processes warm), and the rest idle until they are pinged.
        kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine, ping_after_idle_s)
    return engine


def _ping_after_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use if it has been idle `idle_s` or longer; a dead one
    is replaced before anyone uses it (SQLAlchemy's pre-ping, but only after idleness)."""
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used < idle_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise DisconnectionError(str(err)) from err  # the pool connects afresh
            raise

    def checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire loaded objects on commit (callers read after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
