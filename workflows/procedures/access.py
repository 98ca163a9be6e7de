"""Who may see a procedure instance (its page, documents and comments), and who may work on
or only read one of its tasks."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotAllowed, TaskAlreadyDone
from engine.instances.assignment import Participant, check_may_act, is_offered_to, offered_clause
from engine.instances.steps import ensure_open
from models import AuditEvent, HumanTask, ProcessInstance
from workflows.refusals import NoAccess

# The audit kind of a notification to the Board (an EU JHA agency's membership): the Board
# is sent the procedure's documents, so its members may open them.
BOARD_NOTIFIED = "board.notified"


def may_see_instance(session: Session, participant: Participant, instance_id: int) -> bool:
    """The Secretariat sees every instance; others those they started or have or had a task in;
    Board members (alternates too) also those that notified the Board.

    One query, however many tasks the instance has.
    """
    if participant.holds("secretariat"):
        return True
    started = exists().where(
        ProcessInstance.id == instance_id, ProcessInstance.started_by == participant.username
    )
    had_task = exists().where(
        HumanTask.instance_id == instance_id,
        or_(
            offered_clause(participant),
            HumanTask.completed_by == participant.username,
            HumanTask.claimed_by == participant.username,
        ),
    )
    reasons = [started, had_task]
    if participant.holds("board_member"):
        reasons.append(
            exists().where(AuditEvent.instance_id == instance_id, AuditEvent.kind == BOARD_NOTIFIED)
        )
    return bool(session.scalar(select(or_(*reasons))))


def may_read_task(participant: Participant, task: HumanTask) -> bool:
    """Who may read a task (reading is not acting): those it is offered to, whoever claimed
    or completed it, and the Secretariat, who follows every procedure."""
    return (
        is_offered_to(participant, task)
        or participant.username in (task.claimed_by, task.completed_by)
        or participant.holds("secretariat")
    )


def check_may_see_instance(session: Session, participant: Participant, instance_id: int) -> None:
    """Raise NoAccess unless the person may see the instance (and it exists)."""
    if session.get(ProcessInstance, instance_id) is None or not may_see_instance(
        session, participant, instance_id
    ):
        raise NoAccess(
            "This procedure is for the Secretariat and for the people who have a task in it."
        )


def check_may_open(participant: Participant, task: HumanTask) -> None:
    """Raise unless the person may work on the task now: NotAllowed, or TaskAlreadyDone."""
    # Others learn only that the task is not theirs; its holders learn that it is closed
    # before they learn who claimed it.
    if not is_offered_to(participant, task):
        check_may_act(participant, task)
    ensure_open(task)
    check_may_act(participant, task)


def check_may_open_or_follow(participant: Participant, task: HumanTask) -> bool:
    """False when the person may work on the task now; True when they may only read it (a
    step they answered, one claimed by a colleague, one that closed, or for the Secretariat
    any step); otherwise the refusal. The same rule as the API's GET /tasks/<id>."""
    try:
        check_may_open(participant, task)
    except (NotAllowed, TaskAlreadyDone):
        # Reading is not acting: the step as it stands, without its form. Someone it was
        # never offered to learns no more than that it is not theirs.
        if may_read_task(participant, task):
            return True
        raise
    return False
