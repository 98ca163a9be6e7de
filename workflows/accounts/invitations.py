"""Invitations: the Secretariat adds a person, who is mailed a single-use link to set their
first password (valid for IISG_INVITATION_DAYS); until then nobody can log in as them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from models import AccountLink, User
from workflows.accounts.links import issue_link, live_link, set_password_through_link
from workflows.mail.compose import enqueue, page_link, when
from workflows.people.management import HeldRole, create_person, is_invited, person

INVITATION = "invitation"


# How long an invitation's link works, as the start gave it (IISG_INVITATION_DAYS, read once
# with the other settings); a step that invites, such as a member's nomination of its focal
# points, has no web request to ask.
_valid = [timedelta(days=7)]


def use_invitation_validity(valid: timedelta) -> None:
    """Make invitations of this process work for `valid` (called once, at start)."""
    _valid[0] = valid


def invitation_validity() -> timedelta:
    """How long the link in an invitation works."""
    return _valid[0]


def invitation_path(secret: str) -> str:
    """The address (path) of the page an invitation's link opens."""
    return f"/login/invitation/{secret}"


def send_invitation(
    session: Session, user: User, *, actor: str, now: datetime, valid: timedelta
) -> str:
    """Mail the person a new link to set their password (at once, whatever their mail mode;
    earlier links stop working); audited. Returns the link."""
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == INVITATION,
            AccountLink.used_at.is_(None),
        )
        .values(expires_at=now)
    )
    secret = issue_link(session, user, INVITATION, now=now, valid=valid)
    link = page_link(invitation_path(secret))
    enqueue(
        session,
        user,
        subject="Your account in IISG Procedures",
        body=(
            f"Hello {user.display_name},\n\n"
            "The IISG Secretariat has given you an account in IISG Procedures, where the "
            "IISG's procedures run: Board decisions, the needs and response mappings, "
            f"membership. Your user name is {user.username}. Open this link to choose your "
            f"password:\n\n{link}\n\n"
            f"The link works once, until {when(now + valid)}. If it has run out, ask the "
            "Secretariat for a new one.\n"
        ),
        kind="account",
        now=now,
        at_once=True,
    )
    audit.record(
        session,
        kind="account.invited",
        actor=actor,
        now=now,
        payload={"username": user.username, "email": user.email},
    )
    return link


def invite_person(
    session: Session,
    username: str,
    *,
    name: str,
    email: str,
    organisation: str | None,
    roles: Sequence[HeldRole],
    actor: str,
    now: datetime,
    valid: timedelta,
) -> User:
    """Add a person with their roles and mail them their invitation, in one unit of work."""
    user = create_person(
        session,
        username,
        name=name,
        email=email,
        organisation=organisation,
        roles=roles,
        actor=actor,
        now=now,
    )
    send_invitation(session, user, actor=actor, now=now, valid=valid)
    return user


def invite_again(
    session: Session, username: str, *, actor: str, now: datetime, valid: timedelta
) -> User:
    """A new invitation for a person who has not set their password yet."""
    user = person(session, username)
    if not is_invited(user):
        raise Refused(
            "invitation",
            f"{user.display_name} has set their password already; they can ask for a new one "
            "on the login page if they forgot it",
        )
    if not user.active:
        raise Refused("invitation", f"{user.display_name} is deactivated: reactivate them first")
    send_invitation(session, user, actor=actor, now=now, valid=valid)
    return user


def invited_person(session: Session, secret: str, *, now: datetime) -> User | None:
    """The person an invitation link is for, while it is unused and unexpired."""
    return live_link(session, secret, INVITATION, now=now)


def accept_invitation(
    session: Session, secret: str, password: str, *, now: datetime
) -> User | None:
    """Set the password the invited person chose (the policy's refusal names `new_password`)
    and use the link up; None when the link is unknown, used or expired."""
    user = set_password_through_link(session, secret, INVITATION, password, now=now)
    if user is None:
        return None
    audit.record(
        session,
        kind="account.invitation_accepted",
        actor=user.username,
        now=now,
        payload={"username": user.username},
    )
    return user
