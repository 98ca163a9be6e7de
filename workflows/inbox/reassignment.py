"""The Secretariat's reassignment: handing an open task to one named holder of its role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.instances.assignment import Participant, describe_holder, is_offered_to
from engine.instances.claims import change_claim
from engine.instances.steps import require_open_task
from models import HumanTask, User
from workflows.people.accounts import participant as participant_of
from workflows.refusals import NoAccess, RequestRefused


def who_may_take(session: Session, task: HumanTask) -> list[User]:
    """The active users the Secretariat may hand the task to: those holding its role within
    its scope, whoever has claimed it (recipients.holders_of, by contrast, names only the
    claimer of a claimed task)."""
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.grants.any(role=task.role))
        .order_by(User.display_name)
    )
    return [user for user in users if is_offered_to(participant_of(user), task)]


def reassign_task(
    session: Session, task_id: int, username: str, *, actor: Participant, now: datetime
) -> HumanTask:
    """The Secretariat hands an open task to one named holder of its role and scope."""
    if not actor.holds("secretariat"):
        raise NoAccess("Only the Secretariat may reassign tasks.")
    task = require_open_task(session, task_id)
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        raise RequestRefused(
            f"There is no active user '{username.strip()}'. Choose one from the list."
        )
    if not is_offered_to(participant_of(user), task):
        raise RequestRefused(
            f"{user.display_name} cannot take '{task.name}': it is for "
            f"{describe_holder(task)}. Choose someone who holds that role."
        )
    previous = task.claimed_by
    if previous != user.username:
        change_claim(session, task, user.username)
        audit.record(
            session,
            kind="task.reassigned",
            actor=actor.username,
            now=now,
            instance_id=task.instance_id,
            payload={"task": task.bpmn_id, "from": previous, "to": user.username},
        )
    session.flush()
    return task
