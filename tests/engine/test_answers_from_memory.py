"""An answer to a step this process saved last reads nothing: it goes on from the workflow
and the rows kept in memory, and its writes assert that the rows are still exactly so. When
one is not (a claim, a step or a restore elsewhere), the unit of work starts again, reading,
and the answer ends as it would have had it read; a refusal is said only of rows as stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.task import TaskState
from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from engine.assignment import Participant
from engine.errors import ClaimedByOther, FormInvalid, NotAllowed
from engine.kept_workflows import kept_workflows
from engine.runtime import load
from models import HumanTask, ProcessInstance
from tests.engine.conftest import SEATS, Procedures
from tests.engine.test_kept_workflows import answer_state

NO_OBJECTION = {"answer": "no_objection"}


@pytest.fixture(autouse=True)
def nothing_kept_before() -> Iterator[None]:
    """Each test starts with nothing kept from an earlier one."""
    kept_workflows.clear()
    yield
    kept_workflows.clear()


def stored_row(procedures: Procedures, task_id: int) -> dict[str, Any]:
    """Every column of an inbox row as the database holds it."""
    with procedures.db.session() as session:
        return row_columns(session.get_one(HumanTask, task_id))


def row_columns(row: HumanTask) -> dict[str, Any]:
    """Every column of an inbox row as the object holds it."""
    return {a.key: getattr(row, a.key) for a in inspect(HumanTask).column_attrs}


def changed_meanwhile(procedures: Procedures, task_id: int, **values: Any) -> None:
    """An inbox row changed in the database as another web process would change it."""
    procedures.db.run(
        lambda s: s.execute(update(HumanTask).where(HumanTask.id == task_id).values(**values))
    )


def vote_after_al(procedures: Procedures, board: dict[str, Participant]) -> int:
    """A vote in which AL has answered, in this process: BA's and XK's rows are kept."""
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al.id, NO_OBJECTION, board["AL"])
    return instance_id


def test_the_next_answer_reads_nothing_and_is_stored_and_returned_as_if_read(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = vote_after_al(procedures, board)
    ba = procedures.task(instance_id, "answer_task", "BA")
    taken = kept_workflows.taken_for_answers

    done = procedures.complete(ba.id, NO_OBJECTION, board["BA"])

    assert kept_workflows.taken_for_answers == taken + 1
    assert row_columns(done) == stored_row(procedures, ba.id)
    assert (done.status, done.completed_by, done.submitted) == (
        "completed",
        board["BA"].username,
        NO_OBJECTION,
    )
    assert answer_state(procedures, instance_id, "XK") == TaskState.READY


def test_a_claim_written_meanwhile_refuses_the_answer_as_a_read_would(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = vote_after_al(procedures, board)
    ba = procedures.task(instance_id, "answer_task", "BA")
    changed_meanwhile(procedures, ba.id, claimed_by="board-ba-deputy")  # a claim

    with pytest.raises(ClaimedByOther, match="claimed by board-ba-deputy"):
        procedures.complete(ba.id, NO_OBJECTION, board["BA"])

    assert stored_row(procedures, ba.id)["status"] == "open"
    assert answer_state(procedures, instance_id, "BA") == TaskState.READY


@pytest.mark.parametrize("version_moved", [True, False], ids=["another-step", "a-restore"])
def test_a_state_written_meanwhile_is_what_the_answer_goes_on_from(
    procedures: Procedures, board: dict[str, Participant], version_moved: bool
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    before_al = procedures.instance(instance_id).state_json
    al = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al.id, NO_OBJECTION, board["AL"])
    ba = procedures.task(instance_id, "answer_task", "BA")
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
            .where(HumanTask.id == al.id)
            .values(status="open", completed_by=None, completed_at=None, submitted=None)
        )

    procedures.db.run(back_to_before_al)

    procedures.complete(ba.id, NO_OBJECTION, board["BA"])

    # BA's answer went on from the state stored, in which AL has not answered.
    assert answer_state(procedures, instance_id, "AL") == TaskState.READY
    with procedures.db.session() as session:
        workflow = load(session, instance_id).workflow
        assert workflow.get_task_from_id(UUID(ba.task_guid)).state == TaskState.COMPLETED
    assert procedures.instance(instance_id).lock_version == version + 1


def test_a_refusal_is_not_said_of_rows_that_changed_meanwhile(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = vote_after_al(procedures, board)
    ba = procedures.task(instance_id, "answer_task", "BA")
    # The kept row says BA's seat answers it; the stored one now says AL's.
    changed_meanwhile(procedures, ba.id, organisation="AL")

    done = procedures.complete(ba.id, NO_OBJECTION, board["AL"])

    assert (done.status, done.completed_by) == ("completed", board["AL"].username)


def test_a_refusal_of_rows_as_kept_is_said_as_it_is_and_changes_nothing(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = vote_after_al(procedures, board)
    ba = procedures.task(instance_id, "answer_task", "BA")
    version = procedures.instance(instance_id).lock_version

    with pytest.raises(NotAllowed, match="is not one of your tasks"):
        procedures.complete(ba.id, NO_OBJECTION, board["AL"])
    procedures.complete(
        procedures.task(instance_id, "answer_task", "XK").id, NO_OBJECTION, board["XK"]
    )  # (XK's answer keeps BA's row again)
    with pytest.raises(FormInvalid):
        procedures.complete(ba.id, {"answer": "perhaps"}, board["BA"])

    assert stored_row(procedures, ba.id)["status"] == "open"
    assert procedures.instance(instance_id).lock_version == version + 1  # XK's answer only
    done = procedures.complete(ba.id, {"answer": "objection"}, board["BA"])
    assert (done.status, done.submitted) == ("completed", {"answer": "objection"})


def test_after_a_step_restored_from_the_database_the_next_answer_reads_nothing(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    kept_workflows.clear()  # as in a web process that did not start the vote
    procedures.complete(
        procedures.task(instance_id, "answer_task", "AL").id, NO_OBJECTION, board["AL"]
    )
    ba = procedures.task(instance_id, "answer_task", "BA")
    taken = kept_workflows.taken_for_answers

    done = procedures.complete(ba.id, NO_OBJECTION, board["BA"])

    assert kept_workflows.taken_for_answers == taken + 1
    assert row_columns(done) == stored_row(procedures, ba.id)
