"""Withdrawing a running procedure: its tasks withdrawn, its timers gone, the processes it
calls cancelled with it, and the reason on the audit trail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from engine.errors import ProcedureEnded, Refused, TaskAlreadyDone
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import cancel_instance, complete_task, due_instances
from engine.instances.unit_of_work import is_conflict
from engine.scheduler.passes import run_pass
from models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.engine.conftest import Procedures

REASON = "Started by mistake: the draft belongs to next year's exercise."


def cancel(procedures: Procedures, instance_id: int, reason: str = REASON) -> list[HumanTask]:
    """Withdraw the instance as the Secretariat, now."""
    now = procedures.clock.now()
    withdrawn: list[HumanTask] = procedures.db.run(
        lambda s: cancel_instance(s, instance_id, actor="sec", reason=reason, now=now)
    )
    return withdrawn


def test_withdrawing_withdraws_the_open_task_removes_the_timers_and_nothing_fires_later(
    procedures: Procedures, secretariat: Participant
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    prepare = procedures.task(instance_id, "prepare")
    assert set(procedures.timers(instance_id)) == {"reminder", "deadline"}

    procedures.clock.move(hours=2)
    withdrawn = cancel(procedures, instance_id)

    assert [(t.id, t.status) for t in withdrawn] == [(prepare.id, "withdrawn")]
    row = procedures.instance(instance_id)
    assert (row.status, row.ended_at) == ("cancelled", procedures.clock.now())
    assert procedures.open_tasks(instance_id) == []
    assert procedures.timers(instance_id) == {}
    with procedures.db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == instance_id, AuditEvent.kind == "instance.cancelled"
            )
        ).one()
        assert (event.actor, event.payload) == (
            "sec",
            {"reason": REASON, "tasks": ["prepare"], "timers": ["deadline", "reminder"]},
        )

    # Past both due times, the scheduler finds nothing to fire, and the step stays closed.
    procedures.clock.move(days=4)
    with procedures.db.session() as session:
        assert due_instances(session, procedures.clock.now()) == []
    assert run_pass(procedures.db.factory).fired_count == 0
    assert procedures.open_tasks(instance_id) == []

    # Answering the withdrawn step is refused, in words that say why.
    with pytest.raises(TaskAlreadyDone, match=r"sec withdrew the procedure on .*reason: Started"):
        procedures.complete(prepare.id, {}, secretariat)


def test_a_called_process_is_cancelled_with_its_caller(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    make_person("sec-caller", Grant("secretariat"))
    instance_id = procedures.start("caller_a", {"matter": "first"})
    confirm = procedures.task(instance_id, "confirm")  # a step of the called `shared_step`

    cancel(procedures, instance_id)

    with procedures.db.session() as session:
        assert session.get_one(HumanTask, confirm.id).status == "withdrawn"
    assert procedures.instance(instance_id).status == "cancelled"
    # The stored state is cancelled throughout: reloaded, nothing waits for a person.
    assert procedures.open_tasks(instance_id) == []


def test_a_withdrawal_needs_a_reason_and_an_ended_procedure_cannot_be_withdrawn(
    procedures: Procedures,
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    with pytest.raises(Refused) as refused:
        cancel(procedures, instance_id, reason="   ")
    assert list(refused.value.errors) == ["reason"]
    assert procedures.instance(instance_id).status == "running"  # nothing was written
    assert len(procedures.open_tasks(instance_id)) == 1

    cancel(procedures, instance_id)
    with pytest.raises(ProcedureEnded, match="already ended: sec withdrew the procedure"):
        cancel(procedures, instance_id, reason="Once more.")


def test_an_answer_saved_first_makes_the_withdrawal_start_again_and_withdraw_the_rest(
    procedures: Procedures, secretariat: Participant
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    prepare = procedures.task(instance_id, "prepare")
    now = procedures.clock.now()

    # The withdrawal has read the instance when the answer is saved, before its own save.
    with procedures.db.session() as cancelling:
        read = cancelling.get(ProcessInstance, instance_id)
        assert read is not None and read.status == "running"
        procedures.complete(prepare.id, {}, secretariat)
        with pytest.raises(Exception) as conflict:
            cancel_instance(cancelling, instance_id, actor="sec", reason=REASON, now=now)
            cancelling.commit()
        cancelling.rollback()
    assert is_conflict(conflict.value)  # run_in_transaction starts such a unit of work again

    # Started again, it withdraws what is open now; the answer stands.
    cancel(procedures, instance_id)
    with procedures.db.session() as session:
        answered = session.get_one(HumanTask, prepare.id)
        assert (answered.status, answered.completed_by) == ("completed", "sec")
        assert session.scalars(select(Timer).where(Timer.instance_id == instance_id)).all() == []
    assert procedures.instance(instance_id).status == "cancelled"


def test_a_withdrawal_saved_first_leaves_the_answer_nothing_to_answer(
    procedures: Procedures, secretariat: Participant
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    prepare = procedures.task(instance_id, "prepare")
    cancel(procedures, instance_id)
    with pytest.raises(TaskAlreadyDone), procedures.db.session() as session:
        complete_task(session, prepare.id, {}, participant=secretariat, now=procedures.clock.now())
