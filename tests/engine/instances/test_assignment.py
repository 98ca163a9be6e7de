"""Who is offered a step: the lane's role, within the step's organisation."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from engine.instances.assignment import (
    Grant,
    Participant,
    is_offered_to,
    offered_clause,
    open_offered_clause,
)
from models import HumanTask
from tests.engine.conftest import Procedures

REVIEW = {"approved": True, "comment": "Ready for the Board."}


def inbox(procedures: Procedures, person: Participant) -> list[HumanTask]:
    """The person's open tasks, as the inbox query finds them."""
    with procedures.db.session() as session:
        return list(
            session.scalars(
                select(HumanTask).where(HumanTask.status == "open", offered_clause(person))
            )
        )


def test_user_task_in_a_lane_is_offered_to_that_role_only(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    board_al = make_person("board-al", Grant("board_member", "AL"))
    instance_id = procedures.start("lane_task", {"seat": "AL"})

    review = procedures.task(instance_id, "review")
    assert (review.role, review.organisation, review.form) == ("secretariat", None, "review.json")
    assert [t.id for t in inbox(procedures, secretariat)] == [review.id]
    assert inbox(procedures, board_al) == []
    assert is_offered_to(secretariat, review)
    assert not is_offered_to(board_al, review)


def test_completing_a_task_moves_the_instance_on_to_the_next_lane(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    board_al = make_person("board-al", Grant("board_member", "AL"))
    board_ba = make_person("board-ba", Grant("board_member", "BA"))
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    review = procedures.task(instance_id, "review")

    done = procedures.complete(review.id, REVIEW, secretariat)

    assert done.status == "completed"
    assert done.completed_by == "sec"
    assert done.submitted == REVIEW
    acknowledge = procedures.task(instance_id, "acknowledge")
    assert (acknowledge.role, acknowledge.organisation) == ("board_member", "AL")
    assert [t.id for t in inbox(procedures, board_al)] == [acknowledge.id]
    assert inbox(procedures, board_ba) == []
    assert inbox(procedures, secretariat) == []
    assert is_offered_to(board_al, acknowledge)
    assert not is_offered_to(board_ba, acknowledge)
    assert not is_offered_to(secretariat, acknowledge)

    procedures.complete(acknowledge.id, {}, board_al)

    finished = procedures.instance(instance_id)
    assert (finished.status, finished.ended_at) == ("completed", procedures.clock.now())
    assert procedures.open_tasks(instance_id) == []
    assert procedures.data(instance_id)["approved"] is True


def test_the_inbox_lookup_finds_exactly_the_open_tasks_offered(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    people = [
        secretariat,
        make_person("board-al", Grant("board_member", "AL"), Grant("member", "AL")),
        make_person("board-ba", Grant("board_member", "BA")),
        make_person("fp", Grant("focal_point", "AL", "WBCTi"), Grant("board_member")),
    ]
    for seat in ("AL", "BA", "AL"):
        instance_id = procedures.start("lane_task", {"seat": seat})
        if seat == "BA":
            procedures.complete(procedures.task(instance_id, "review").id, REVIEW, secretariat)

    with procedures.db.session() as session:
        for person in people:
            by_index = select(HumanTask.id).where(open_offered_clause(person))
            plain = select(HumanTask.id).where(HumanTask.status == "open", offered_clause(person))
            assert set(session.scalars(by_index)) == set(session.scalars(plain)), person.username
