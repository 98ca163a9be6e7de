"""A procedure waiting for a signal moves on when it arrives, and only then."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import EngineError
from engine.instances.steps import send_signal
from models import HumanTask, ProcessInstance
from tests.conftest import Clock, Database
from tests.engine.conftest import Procedures


def _open_tasks(db: Database, instance_id: int) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(HumanTask.name).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
        )


def test_a_signal_moves_a_waiting_procedure_on(
    db: Database, clock: Clock, procedures: Procedures
) -> None:
    instance_id = procedures.start("signal_wait")
    assert _open_tasks(db, instance_id) == []
    db.run(
        lambda s: send_signal(
            s, instance_id, "board_meeting_held", actor="secretariat", now=clock.now()
        )
    )
    assert _open_tasks(db, instance_id) == ["Write the minutes"]


def test_a_signal_nobody_waits_for_is_refused_and_changes_nothing(
    db: Database, clock: Clock, procedures: Procedures
) -> None:
    instance_id = procedures.start("signal_wait")
    with db.session() as s:
        before = s.get(ProcessInstance, instance_id)
        assert before is not None
        version, state = before.lock_version, before.state_json
    events = procedures.audit_count()
    with pytest.raises(EngineError, match="not waiting for 'meeting_cancelled'"):
        db.run(
            lambda s: send_signal(
                s, instance_id, "meeting_cancelled", actor="secretariat", now=clock.now()
            )
        )
    with db.session() as s:
        after = s.get(ProcessInstance, instance_id)
        assert after is not None
        assert (after.lock_version, after.state_json) == (version, state)
    assert procedures.audit_count() == events
    assert _open_tasks(db, instance_id) == []
