"""Completing a step: concurrent answers both land; a wrong submission changes nothing; an
answer always goes on from the state the database holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.audit import verify
from engine.errors import FormInvalid, NotAllowed, TaskAlreadyDone
from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from engine.instances.steps import complete_task
from engine.instances.unit_of_work import run_in_transaction
from models import HumanTask, ProcessInstance
from tests.engine.conftest import SEATS, Procedures


def snapshot(procedures: Procedures, instance_id: int) -> tuple[Any, ...]:
    """Everything a refused submission must leave as it was."""
    row = procedures.instance(instance_id)
    tasks = [(t.id, t.status, t.submitted) for t in procedures.open_tasks(instance_id)]
    return row.lock_version, row.state_json, procedures.audit_count(), tasks


def test_concurrent_answers_to_one_vote_retry_and_both_land(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al_task = procedures.task(instance_id, "answer_task", "AL")
    ba_task = procedures.task(instance_id, "answer_task", "BA")
    attempts: list[int] = []

    def answer_for_albania(session: Session) -> HumanTask:
        attempts.append(procedures.instance(instance_id).lock_version)
        held = load(session, instance_id)  # this session now holds the instance as it is
        if len(attempts) == 1:
            # Meanwhile Bosnia and Herzegovina answers in its own session and commits first.
            procedures.complete(ba_task.id, {"answer": "objection"}, board["BA"])
        done = complete_task(
            session,
            al_task.id,
            {"answer": "no_objection"},
            participant=board["AL"],
            now=procedures.clock.now(),
        )
        assert done.instance_id == held.row.id
        return done

    done = run_in_transaction(procedures.db.factory, answer_for_albania)

    assert done.status == "completed"
    assert len(attempts) == 2  # the first save conflicted; the retry started from B's state
    assert attempts[1] == attempts[0] + 1
    assert [t.organisation for t in procedures.open_tasks(instance_id)] == ["XK"]
    xk_task = procedures.task(instance_id, "answer_task", "XK")
    procedures.complete(xk_task.id, {"answer": "no_objection"}, board["XK"])
    assert procedures.data(instance_id)["answers"] == {
        "AL": "no_objection",
        "BA": "objection",
        "XK": "no_objection",
    }
    with procedures.db.session() as session:
        assert verify(session).intact


def test_completing_an_already_completed_task_is_refused_and_changes_nothing(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al_task = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al_task.id, {"answer": "no_objection"}, board["AL"])
    before = snapshot(procedures, instance_id)

    with pytest.raises(TaskAlreadyDone, match="already completed by board-al") as refused:
        procedures.complete(al_task.id, {"answer": "objection"}, board["AL"])

    assert "nothing was changed" in str(refused.value)
    assert snapshot(procedures, instance_id) == before


def test_completing_someone_elses_task_is_not_allowed(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al_task = procedures.task(instance_id, "answer_task", "AL")
    before = snapshot(procedures, instance_id)

    with pytest.raises(NotAllowed, match="not one of your tasks: it is for board member \\(AL\\)"):
        procedures.complete(al_task.id, {"answer": "objection"}, board["BA"])

    assert snapshot(procedures, instance_id) == before


@pytest.mark.parametrize(
    ("submitted", "errors"),
    [
        ({"answer": "maybe"}, {"answer": "choose one of: no_objection, objection"}),
        ({}, {"answer": "this field is required"}),
        ({"answer": 1}, {"answer": "must be a string"}),
        (
            {"answer": "objection", "answers": {"AL": "objection"}},
            {"answers": "is not a field of this form"},
        ),
    ],
    ids=["not_a_choice", "missing", "wrong_type", "not_a_form_field"],
)
def test_invalid_form_data_is_refused_naming_the_field_and_changes_nothing(
    procedures: Procedures,
    board: dict[str, Participant],
    submitted: dict[str, Any],
    errors: dict[str, str],
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al_task = procedures.task(instance_id, "answer_task", "AL")
    before = snapshot(procedures, instance_id)

    with pytest.raises(FormInvalid) as refused:
        procedures.complete(al_task.id, submitted, board["AL"])

    assert refused.value.errors == errors
    assert snapshot(procedures, instance_id) == before


def test_a_step_without_a_form_takes_no_data(
    procedures: Procedures, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    board_al = make_person("board-al", Grant("board_member", "AL"))
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    review = procedures.task(instance_id, "review")
    procedures.complete(review.id, {"approved": True, "comment": "Fine."}, secretariat)
    acknowledge = procedures.task(instance_id, "acknowledge")
    before = snapshot(procedures, instance_id)

    with pytest.raises(FormInvalid) as refused:
        procedures.complete(acknowledge.id, {"seat": "BA"}, board_al)

    assert refused.value.errors == {"seat": "this step takes no data"}
    assert snapshot(procedures, instance_id) == before


def test_an_answer_whose_unit_of_work_rolled_back_can_still_be_given_once(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al_task = procedures.task(instance_id, "answer_task", "AL")
    with procedures.db.session() as session:
        complete_task(
            session,
            al_task.id,
            {"answer": "no_objection"},
            participant=board["AL"],
            now=procedures.clock.now(),
        )
        session.rollback()  # saved, then never committed

    assert [t.organisation for t in procedures.open_tasks(instance_id)] == list(SEATS)
    done = procedures.complete(al_task.id, {"answer": "objection"}, board["AL"])
    assert (done.status, done.submitted) == ("completed", {"answer": "objection"})
    with pytest.raises(TaskAlreadyDone):
        procedures.complete(al_task.id, {"answer": "no_objection"}, board["AL"])
    for seat in ("BA", "XK"):
        seat_task = procedures.task(instance_id, "answer_task", seat)
        procedures.complete(seat_task.id, {"answer": "no_objection"}, board[seat])
    assert procedures.data(instance_id)["answers"] == {
        "AL": "objection",
        "BA": "no_objection",
        "XK": "no_objection",
    }


@pytest.mark.parametrize("version_moved", [True, False], ids=["another-step", "a-restore"])
def test_the_next_answer_goes_on_from_the_state_stored_whoever_wrote_it(
    procedures: Procedures, board: dict[str, Participant], version_moved: bool
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    before_al = procedures.instance(instance_id).state_json
    al_task = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al_task.id, {"answer": "no_objection"}, board["AL"])
    ba_task = procedures.task(instance_id, "answer_task", "BA")
    # The database goes back to before AL's answer: by another process's steps (which move
    # the version), or by a restore from a backup (which may not).
    version = procedures.instance(instance_id).lock_version + (1 if version_moved else 0)

    def back_to_before_al(session: Session) -> None:
        session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(state_json=before_al, lock_version=version)
        )
        session.execute(
            update(HumanTask)
            .where(HumanTask.id == al_task.id)
            .values(status="open", completed_by=None, completed_at=None, submitted=None)
        )

    procedures.db.run(back_to_before_al)

    procedures.complete(ba_task.id, {"answer": "no_objection"}, board["BA"])

    # BA's answer went on from the state stored, in which AL has not answered.
    assert [t.organisation for t in procedures.open_tasks(instance_id)] == ["AL", "XK"]
    assert procedures.instance(instance_id).lock_version == version + 1
    for seat, answer in (("AL", "objection"), ("XK", "no_objection")):
        seat_task = procedures.task(instance_id, "answer_task", seat)
        procedures.complete(seat_task.id, {"answer": answer}, board[seat])
    assert procedures.data(instance_id)["answers"] == {
        "AL": "objection",
        "BA": "no_objection",
        "XK": "no_objection",
    }
