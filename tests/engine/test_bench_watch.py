"""The bench's wake-up figure rests on seeing when each timer's firing commits: the watch
must see a firing that commits, and must not count one that rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bench.scheduler import CommitWatch
from engine.instances import fire_due_timers
from tests.engine.conftest import Procedures


class RolledBack(Exception):
    """Raised inside a unit of work so that it rolls back."""


def test_the_watch_sees_a_timer_firing_commit_and_ignores_one_rolled_back(
    procedures: Procedures,
) -> None:
    committed = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    rolled_back = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    procedures.clock.move(days=1, minutes=1)  # the reminders fall due
    now = procedures.clock.now()

    def fire_then_fail(session: Session) -> None:
        assert fire_due_timers(session, rolled_back, now) == ["reminder"]
        raise RolledBack

    with CommitWatch(procedures.db.factory, [committed, rolled_back]) as watch:
        with pytest.raises(RolledBack):
            procedures.db.run(fire_then_fail)
        assert procedures.fire_timers(committed) == ["reminder"]

    assert set(watch.committed) == {committed}
    assert not watch.done.is_set()  # the rolled-back one is still awaited
