"""An instance outlives the process that started it: state, inbox and timers all come back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from engine.diagrams.specs import SpecCache
from engine.instances import loading as runtime
from engine.instances.assignment import Participant
from models import ProcessInstance, make_engine, make_session_factory
from tests.conftest import Database
from tests.engine.conftest import Procedures


@pytest.fixture
def restart(
    procedures: Procedures, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Procedures]]:
    """Restarting: a new database engine and sessions, no specs in memory."""
    engines: list[Engine] = []

    def restart_now() -> Procedures:
        engine = make_engine(procedures.db.url)
        engines.append(engine)
        # The runtime looks specs up in this cache; a new process starts with an empty one.
        monkeypatch.setattr(runtime, "spec_cache", SpecCache())
        database = Database(procedures.db.url, engine, make_session_factory(engine))
        return Procedures(database, procedures.clock)

    yield restart_now
    for engine in engines:
        engine.dispose()


def spec_of(procedures: Procedures, instance_id: int) -> object:
    """The spec object the runtime runs an instance on."""
    with procedures.db.session() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return runtime.specs_of(row.definition)[0]


def test_instance_survives_a_restart_mid_way_timers_included(
    procedures: Procedures, secretariat: Participant, restart: Callable[[], Procedures]
) -> None:
    start = procedures.clock.now()
    waiting = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    drafted = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    procedures.clock.move(hours=1)
    procedures.complete(procedures.task(drafted, "prepare").id, {}, secretariat)
    before = {i: procedures.instance(i).state_json for i in (waiting, drafted)}
    spec_in_memory = spec_of(procedures, waiting)

    after = restart()

    assert {i: after.instance(i).state_json for i in (waiting, drafted)} == before
    restored_spec = spec_of(after, waiting)
    assert restored_spec is not spec_in_memory  # restored afresh from the stored version
    assert after.timers(waiting) == {
        "reminder": start + timedelta(days=1),
        "deadline": start + timedelta(days=3),
    }
    assert after.timers(drafted) == {"cooling_off": start + timedelta(days=2, hours=1)}
    prepare = after.task(waiting, "prepare")

    after.clock.move(hours=22, minutes=59)
    assert after.fire_timers(waiting) == []
    after.clock.move(minutes=1)  # a day after the start, as planned before the restart
    assert after.fire_timers(waiting) == ["reminder"]
    assert after.step_data(waiting, "count_reminder")["reminders"] == 1
    assert after.task(waiting, "prepare").id == prepare.id

    after.clock.move(days=1, minutes=59)
    assert after.fire_timers(drafted) == []
    after.clock.move(minutes=1)
    assert after.fire_timers(drafted) == ["cooling_off"]
    after.complete(after.task(drafted, "follow_up").id, {}, secretariat)
    assert after.instance(drafted).status == "completed"

    after.clock.move(hours=23)
    assert after.fire_timers(waiting) == ["deadline"]
    after.complete(after.task(waiting, "handle_lateness").id, {}, secretariat)
    assert after.instance(waiting).status == "completed"
    assert after.step_data(waiting, "count_reminder")["reminders"] == 1
