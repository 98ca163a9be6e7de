"""The first account of a new installation: a member of the Secretariat, who then invites
everyone else from the people pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import RoleGrant, User
from workflows.accounts.invitations import send_invitation
from workflows.people.accounts import change_password
from workflows.people.management import HeldRole, create_person
from workflows.people.roles import SECRETARIAT

# The Secretariat is hosted by the RCC (`003_*`); its people are of the RCC.
SECRETARIAT_HOST = "RCC"


def secretariat_accounts(session: Session) -> list[str]:
    """The user names of everyone holding the Secretariat's role."""
    return list(
        session.scalars(
            select(User.username)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == SECRETARIAT)
            .order_by(User.username)
        )
    )


def create_first_secretariat(
    session: Session,
    username: str,
    *,
    name: str,
    email: str,
    password: str | None,
    now: datetime,
    valid: timedelta,
) -> str | None:
    """The first Secretariat account: with `password` it can log in at once; without, it is
    mailed an invitation, whose link is returned (to print)."""
    user = create_person(
        session,
        username,
        name=name,
        email=email,
        organisation=SECRETARIAT_HOST,
        roles=[HeldRole(SECRETARIAT)],
        actor="cli",
        now=now,
    )
    if password is not None:
        change_password(session, user.username, password, actor="cli", now=now)
        return None
    return send_invitation(session, user, actor="cli", now=now, valid=valid)
