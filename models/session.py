"""Database engine and session factory, selected by one setting: IISG_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from models import pipeline

DEFAULT_INSTANCE_DIR = Path("instance")


def database_url(environ: dict[str, str] | None = None) -> str:
    """The configured database URL; SQLite under instance/ when none is set."""
    env = os.environ if environ is None else environ
    url = env.get("IISG_DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    instance = Path(env.get("IISG_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)))
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(instance / 'iisg.sqlite3').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Said, not left to how SQLite was built: a commit is on disk before it is acknowledged.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for the URL, with SQLite made safe for several threads and processes."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        pipeline.enable(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire loaded objects on commit (callers read after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
