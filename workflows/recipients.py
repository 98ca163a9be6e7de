"""Who is told: the people a task is offered to, and the Secretariat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import HumanTask, RoleGrant, User

SECRETARIAT = "secretariat"


def holders_of(session: Session, task: HumanTask) -> list[User]:
    """Active users the task is offered to (its assignee, else its role within its scope);
    when it is claimed, only the person who claimed it."""
    if task.claimed_by or task.assignee:
        username = task.claimed_by or task.assignee
        return list(session.scalars(select(User).where(User.username == username, User.active)))
    query = (
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.active, RoleGrant.role == task.role)
    )
    if task.organisation is not None:
        query = query.where(RoleGrant.organisation == task.organisation)
    if task.pillar is not None:
        query = query.where(RoleGrant.pillar == task.pillar)
    return list(session.scalars(query.distinct().order_by(User.username)))


def holders_of_role(session: Session, role: str) -> list[User]:
    """Active users holding `role` in any scope."""
    return list(
        session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.active, RoleGrant.role == role)
            .distinct()
            .order_by(User.username)
        )
    )


def secretariat(session: Session) -> list[User]:
    """Active members of the Secretariat."""
    return holders_of_role(session, SECRETARIAT)
