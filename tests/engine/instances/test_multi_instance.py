"""A Board vote: one task per seat, each answer kept under its seat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.instances.assignment import Participant, offered_clause
from models import HumanTask
from tests.engine.conftest import SEATS, Procedures

ANSWERS = {"AL": "no_objection", "BA": "objection", "XK": "no_objection"}


@pytest.mark.parametrize(
    "order", [("AL", "BA", "XK"), ("XK", "BA", "AL")], ids=["in_seat_order", "reversed"]
)
def test_parallel_vote_keyed_by_member_keeps_each_members_answer(
    procedures: Procedures,
    board: dict[str, Participant],
    order: tuple[str, ...],
) -> None:
    members = board
    instance_id = procedures.start("mi_vote", {"seats": SEATS})

    for seat, member in members.items():
        with procedures.db.session() as session:
            offered = session.scalars(
                select(HumanTask).where(HumanTask.status == "open", offered_clause(member))
            ).all()
        assert [(t.bpmn_id, t.organisation) for t in offered] == [("answer_task", seat)]

    for position, seat in enumerate(order):
        task = procedures.task(instance_id, "answer_task", seat)
        procedures.complete(task.id, {"answer": ANSWERS[seat]}, members[seat])
        still_open = {t.organisation for t in procedures.open_tasks(instance_id)}
        assert still_open == set(order[position + 1 :])

    assert procedures.instance(instance_id).status == "completed"
    assert procedures.data(instance_id)["answers"] == ANSWERS
