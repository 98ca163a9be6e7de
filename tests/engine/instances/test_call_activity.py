"""One shared step, called by two procedures, each finishing with its own data."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from engine.instances.assignment import Grant, Participant, offered_clause
from models import HumanTask
from tests.engine.conftest import Procedures


def test_call_activity_shared_by_two_processes_finishes_each_caller_with_its_own_data(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    board_al = make_person("board-al", Grant("board_member", "AL"))
    caller_a = procedures.start("caller_a", {"matter": "first"})
    caller_b = procedures.start("caller_b", {"matter": "second"})

    with procedures.db.session() as session:
        offered = session.scalars(
            select(HumanTask)
            .where(HumanTask.status == "open", offered_clause(secretariat))
            .order_by(HumanTask.instance_id)
        ).all()
        assert not session.scalars(
            select(HumanTask).where(HumanTask.status == "open", offered_clause(board_al))
        ).all()
    # The called task has no lane: its role property offers it to the Secretariat.
    assert [(t.instance_id, t.bpmn_id, t.role, t.process_key) for t in offered] == [
        (caller_a, "confirm", "secretariat", "caller_a"),
        (caller_b, "confirm", "secretariat", "caller_b"),
    ]

    procedures.complete(procedures.task(caller_b, "confirm").id, {"confirmed": True}, secretariat)
    assert procedures.instance(caller_b).status == "completed"
    assert procedures.instance(caller_a).status == "running"
    procedures.complete(procedures.task(caller_a, "confirm").id, {"confirmed": True}, secretariat)

    for instance_id, caller, matter in ((caller_a, "a", "first"), (caller_b, "b", "second")):
        assert procedures.instance(instance_id).status == "completed"
        data = procedures.data(instance_id)
        assert (data["caller"], data["matter"], data["outcome"]) == (caller, matter, "confirmed")
