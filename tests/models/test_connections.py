"""A database server that restarted leaves dead connections in the pool: nobody's work is
lost to them. An idle connection is checked before use; a dead one found in use makes the
unit of work run again on a fresh one, unless it was already committing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.instances.unit_of_work import run_in_transaction
from models import make_engine, make_session_factory
from tests.conftest import Database

BACKEND = text("SELECT pg_backend_pid()")


@pytest.fixture(autouse=True)
def _postgresql_only(db: Database) -> None:
    if not db.is_postgresql:
        pytest.skip("SQLite has no server whose connections could die")


def server_restarted(db: Database, pid: int) -> None:
    """What a restart does to a connection: the server ends its backend."""
    with db.engine.connect() as admin:
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.fixture
def engine_pinging_after(db: Database) -> Iterator[Callable[[float], Engine]]:
    """Engines of one connection whose pool pings after the idleness given."""
    made: list[Engine] = []

    def make(idle_s: float) -> Engine:
        engine = make_engine(db.url, ping_after_idle_s=idle_s, pool_size=1, max_overflow=0)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


def test_an_idle_connection_found_dead_is_replaced_before_anyone_uses_it(
    db: Database,
    engine_pinging_after: Callable[[float], Engine],
) -> None:
    factory = make_session_factory(engine_pinging_after(0.0))  # every checkout is checked
    runs: list[int] = []

    def work(session: Session) -> int:
        pid = int(session.scalar(BACKEND) or 0)
        runs.append(pid)
        return pid

    first = run_in_transaction(factory, work)
    server_restarted(db, first)
    second = run_in_transaction(factory, work)

    assert second != first
    assert runs == [first, second]  # the ping found it dead: the work ran once, on a new one


def test_a_connection_found_dead_in_use_makes_the_work_run_again_on_a_fresh_one(
    db: Database,
    engine_pinging_after: Callable[[float], Engine],
) -> None:
    factory = make_session_factory(engine_pinging_after(3600.0))  # used just now: no ping
    runs: list[int] = []

    def work(session: Session) -> int:
        runs.append(1)
        return int(session.scalar(BACKEND) or 0)

    first = run_in_transaction(factory, work)
    server_restarted(db, first)
    second = run_in_transaction(factory, work)

    assert second != first
    assert len(runs) == 3  # once before the restart; after it, the failed try and the rerun


def test_a_connection_lost_while_committing_is_not_retried(
    db: Database,
    engine_pinging_after: Callable[[float], Engine],
) -> None:
    # Whether that commit landed cannot be known: running the work again could do it twice.
    factory = make_session_factory(engine_pinging_after(3600.0))
    runs: list[int] = []

    def work(session: Session) -> None:
        runs.append(1)
        pid = session.scalar(BACKEND)
        server_restarted(db, int(pid or 0))

    with pytest.raises(DBAPIError) as lost:
        run_in_transaction(factory, work)

    assert lost.value.connection_invalidated
    assert len(runs) == 1
