"""Who may see a procedure instance: its page, its documents and its comments."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.assignment import Participant, is_offered_to, offered_clause
from models import HumanTask, ProcessInstance


class NoAccess(Exception):
    """The person may not see or change this at all (shown as 403)."""


def may_see_instance(session: Session, participant: Participant, instance_id: int) -> bool:
    """The Secretariat sees every instance; others those they started or have or had a task in.

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
    return bool(session.scalar(select(or_(started, had_task))))


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
