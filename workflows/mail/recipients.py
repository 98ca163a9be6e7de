"""Who is told: the people a task is offered to, the Board, and the Secretariat."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.instances.assignment import is_offered_to
from models import HumanTask, RoleGrant, User
from workflows.people.accounts import participant
from workflows.people.roles import BOARD_MEMBER, SECRETARIAT


def candidates_for(session: Session, tasks: Sequence[HumanTask]) -> list[User]:
    """Everyone who might hold one of the tasks, in one query (`holds` checks the scope)."""
    roles = {t.role for t in tasks if not (t.claimed_by or t.assignee)}
    names = {name for t in tasks if (name := t.claimed_by or t.assignee)}
    if not roles and not names:
        return []
    return list(
        session.scalars(
            select(User)
            .where(
                User.active,
                or_(User.username.in_(names), User.grants.any(RoleGrant.role.in_(roles))),
            )
            .order_by(User.username)
        )
    )


def holds(user: User, task: HumanTask) -> bool:
    """Whether the task is offered to the user: a claim or an assignee names one person;
    otherwise the engine's rule for the task's role and scope decides."""
    named = task.claimed_by or task.assignee
    if named:
        return user.username == named
    return is_offered_to(participant(user), task)


def holders_of(session: Session, task: HumanTask) -> list[User]:
    """Active users the task is offered to; when it is claimed, only the person who claimed
    it."""
    return [user for user in candidates_for(session, [task]) if holds(user, task)]


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


def board_members(session: Session) -> list[User]:
    """Active Board members, the seats' designated alternates too."""
    return holders_of_role(session, BOARD_MEMBER)


def board_and_secretariat(session: Session) -> list[User]:
    """Active Board members (alternates too) and the Secretariat, each person once."""
    return list(
        session.scalars(
            select(User)
            .where(User.active, User.grants.any(RoleGrant.role.in_((BOARD_MEMBER, SECRETARIAT))))
            .order_by(User.username)
        )
    )
