"""Fixtures shared by every test: a real database (SQLite or PostgreSQL), a movable clock,
the test diagrams deployed, and small factories for people."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, delete, make_url, text, update
from sqlalchemy.orm import Session, sessionmaker

from engine.diagrams.bundle import read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.assignment import Grant, Participant
from engine.instances.unit_of_work import run_in_transaction
from models import (
    GENESIS_HASH,
    AuditChainHead,
    Base,
    Organisation,
    User,
    make_engine,
    make_session_factory,
)
from models.migrate import upgrade
from tests.workflows.mail_server import MailServer
from workflows.inbox.documents import use_documents_directory
from workflows.people.accounts import create_user, participant
from workflows.people.roles import known_roles

TESTS_DIR = Path(__file__).parent
# The tests sign people in with their password alone, as the demo does; the tests of
# two-factor sign-in turn the requirement on in their own app (tests/webui/test_two_factor.py).
os.environ.setdefault("IISG_TWO_FACTOR_REQUIRED", "false")
TEST_BPMN = TESTS_DIR / "bpmn"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning


def _test_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("IISG_TEST_DATABASE_URL", "").strip()
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@dataclass
class Database:
    """The test database: its URL, engine and session factory."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def run(self, work: Callable[[Session], Any]) -> Any:
        """Run one unit of work and commit it, as the application does."""
        return run_in_transaction(self.factory, work)

    def session(self) -> Session:
        """A plain session for reading in assertions."""
        return self.factory()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _test_url(tmp_path_factory)
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(database_url: str, _engine: Engine) -> Iterator[Database]:
    """A clean database for each test (migrated once per run, emptied after each test)."""
    yield Database(database_url, _engine, make_session_factory(_engine))
    with _engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_chain_head":
                connection.execute(delete(table))
        connection.execute(update(AuditChainHead).values(seq=0, last_hash=GENESIS_HASH))


@contextmanager
def empty_database(db: Database, tmp_path: Path, name: str) -> Iterator[str]:
    """The address of a second database with no tables at all, dropped afterwards: a SQLite
    file in `tmp_path`, or a new PostgreSQL database beside the test one."""
    if not db.is_postgresql:
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    source = make_url(db.url)
    database = f"{source.database}_{name}"
    admin = make_engine(
        source.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield source.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


class Clock:
    """The test's clock: starts at START, moves only when told. Nothing sleeps."""

    def __init__(self, traveller: Any) -> None:
        self._traveller = traveller

    def now(self) -> datetime:
        return datetime.now(UTC)

    def move(self, **delta: float) -> datetime:
        self._traveller.shift(timedelta(**delta))
        return self.now()


@pytest.fixture(autouse=True)
def documents_directory(tmp_path: Path) -> Iterator[Path]:
    """Where the documents a step writes go: the test's own folder (as the app's, which
    keeps them in the same place), never the working copy's instance directory."""
    directory = tmp_path / "documents"
    use_documents_directory(directory)
    yield directory
    use_documents_directory(Path("instance") / "documents")


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(START, tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def test_diagrams(db: Database, clock: Clock) -> None:
    """Every diagram under tests/bpmn deployed as version 1."""
    bundle = require_bundle(read_directory(TEST_BPMN), known_roles())
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on localhost, running for the test."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_person(db: Database, clock: Clock) -> Callable[..., Participant]:
    """Create a user with roles; returns them as the engine sees them."""

    def make(username: str, *grants: Grant, password: str = "correct horse") -> Participant:
        def work(session: Session) -> Participant:
            for code in {g.organisation for g in grants if g.organisation}:
                if session.get(Organisation, code) is None:
                    session.add(
                        Organisation(
                            code=code, name=code, member_group="wb_partner", is_member=True
                        )
                    )
            session.flush()
            user: User = create_user(
                session, username, password, display_name=username, now=clock.now(), grants=grants
            )
            return participant(user)

        result: Participant = db.run(work)
        return result

    return make


# Figures a test measured (the crash workload's operations and kills, the races it ran), printed
# at the end of the run under "reliability figures": docs/RELIABILITY.md quotes that output.
_FIGURES: list[tuple[str, dict[str, Any]]] = []


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Keep what a test measured for the end-of-run summary."""
    _FIGURES.append((name, figures))


_TALLIES: dict[str, Counter[str]] = {}


def tally(name: str, **counts: int) -> None:
    """Add to a running count kept across tests (inputs tried, cells checked, refusals)."""
    _TALLIES.setdefault(name, Counter()).update(counts)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not (_FIGURES or _TALLIES):
        return
    url = os.environ.get("IISG_TEST_DATABASE_URL", "").strip()
    database = url.split(":", 1)[0].split("+", 1)[0] if url else "sqlite"
    terminalreporter.section(f"reliability figures ({database})")
    for name, figures in _FIGURES:
        terminalreporter.write_line(f"{name}: {json.dumps(figures, sort_keys=True)}")
    for name, counts in sorted(_TALLIES.items()):
        terminalreporter.write_line(f"{name}: {json.dumps(dict(counts), sort_keys=True)}")
