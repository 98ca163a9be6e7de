"""The database in the web app: a read session per request, a unit of work per change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.instances.unit_of_work import lost_connection_before_commit, run_in_transaction
from models import make_engine, make_session_factory

T = TypeVar("T")
EXTENSION = "iisg"


@dataclass(frozen=True)
class AppDatabase:
    """The app's engine and session factory, kept in `app.extensions["iisg"]`."""

    engine: Engine
    factory: sessionmaker[Session]
    # Connections without a transaction: each statement commits as it runs (one_statement).
    autocommit: Engine


def init_app(app: Flask) -> None:
    """Bind the database named by DATABASE_URL to the app; never migrates it."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = AppDatabase(
        engine,
        make_session_factory(engine),
        engine.execution_options(isolation_level="AUTOCOMMIT"),
    )
    app.teardown_appcontext(close_request_session)


def app_database() -> AppDatabase:
    """The current app's database."""
    database: AppDatabase = current_app.extensions[EXTENSION]
    return database


def request_session() -> Session:
    """The session this request reads with, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = app_database().factory()
    session: Session = g.db_session
    return session


def close_request_session(_error: BaseException | None = None) -> None:
    """Close the request's session, if one was opened (nothing is committed here)."""
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def unit_of_work(work: Callable[[Session], T]) -> T:
    """Run one change in its own session and commit once, retrying on a write conflict."""
    return run_in_transaction(app_database().factory, work)


def one_statement(work: Callable[[Connection], T]) -> T:
    """Run `work` outside a transaction, each statement committed as it runs.

    For a check that is one read and at most one single-row write (the API token's): no
    BEGIN and no COMMIT, one round trip per statement. Anything that writes two things that
    must go together belongs in unit_of_work. A connection found dead (the database server
    restarted) is replaced and the check runs once more. (A connection, not an ORM session:
    a session's machinery would cost more than the check's read, on every API request.)
    """
    for attempt in (1, 2):
        with app_database().autocommit.connect() as connection:
            try:
                return work(connection)
            except Exception as err:
                # Each statement commits as it runs; the check's one write is its last.
                if attempt == 2 or not lost_connection_before_commit(err, committing=False):
                    raise
    raise AssertionError("unreachable")
