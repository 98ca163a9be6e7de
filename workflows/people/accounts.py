"""User accounts: creating them, their passwords (Argon2id), and who they are in the engine."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from engine.instances.assignment import Grant, Participant
from models import RoleGrant, User
from workflows.people.login_sessions import end_sessions_of
from workflows.people.passwords import password_weakness
from workflows.people.roles import ROLES, partner_name

_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    """True when the password is the user's."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _stand_in_hash() -> str:
    return hash_password(secrets.token_hex(16))


def authenticate(session: Session, username: str, password: str) -> tuple[User | None, str]:
    """The user these credentials belong to, or None and the reason (for the audit trail)."""
    user = find_user(session, username) if username else None
    if user is None:
        # Check against a stand-in hash anyway, so the response time does not reveal
        # which user names exist.
        check_password(User(password_hash=_stand_in_hash()), password)
        return None, "unknown user"
    if not check_password(user, password):
        return None, "wrong password"
    if not user.active:
        return None, "account deactivated"
    return user, ""


def find_user(session: Session, username: str) -> User | None:
    """The user with this user name, if any."""
    return session.scalars(select(User).where(User.username == username)).first()


# The password hash of a person invited who has not chosen a password yet: no password
# matches it, so nobody logs in as them until they set one through their invitation.
NO_PASSWORD_YET = "!no password yet"  # noqa: S105 (a marker no password hashes to)


def create_user(
    session: Session,
    username: str,
    password: str | None,
    *,
    display_name: str,
    now: datetime,
    email: str | None = None,
    grants: Iterable[Grant] = (),
    organisation: str | None = None,
) -> User:
    """A new user with their roles; refuses a taken user name or an unknown role. Without a
    password they cannot log in until they set one (an invitation)."""
    if find_user(session, username) is not None:
        raise AccountError(f"the user name '{username}' is taken")
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        organisation=organisation,
        password_hash=NO_PASSWORD_YET if password is None else hash_password(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    for grant in grants:
        add_grant(user, grant)
    session.flush()
    return user


def existing_user(session: Session, username: str) -> User:
    """The user with this user name; refuses a name nobody has."""
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"there is no user '{username}'")
    return user


def change_password(
    session: Session,
    username: str,
    password: str,
    *,
    actor: str,
    now: datetime,
    field: str = "password",
    keep_secret: str | None = None,
) -> User:
    """Give the user a new password, if the policy allows it (else `Refused` naming `field`),
    and end every session opened with the old one but the one with `keep_secret`; audited."""
    user = existing_user(session, username)
    weakness = password_weakness(password, about_the_person=about(user))
    if weakness is not None:
        raise Refused(field, weakness)
    user.password_hash = hash_password(password)
    audit.record(
        session,
        kind="account.password_changed",
        actor=actor,
        now=now,
        payload={"username": user.username},
    )
    end_sessions_of(
        session, user, now=now, actor=actor, reason="password changed", keep_secret=keep_secret
    )
    return user


def about(user: User) -> list[str]:
    """What an attacker knows of the person and would try first in their password."""
    words = [user.username, user.display_name, *user.display_name.split()]
    if user.email:
        words += [user.email, user.email.split("@")[0]]
    return words


def set_active(session: Session, username: str, active: bool, *, actor: str, now: datetime) -> User:
    """Reactivate or deactivate the user; deactivating ends every session. Audited."""
    user = existing_user(session, username)
    if user.active == active:
        return user
    user.active = active
    audit.record(
        session,
        kind="account.activated" if active else "account.deactivated",
        actor=actor,
        now=now,
        payload={"username": user.username},
    )
    if not active:
        end_sessions_of(session, user, now=now, actor=actor, reason="account deactivated")
    return user


def add_grant(user: User, grant: Grant) -> None:
    """Give a user a role (in a scope), unless they hold it already."""
    if grant.role not in ROLES:
        raise AccountError(f"'{grant.role}' is not a role; roles are: {', '.join(ROLES)}")
    for held in user.grants:
        if (held.role, held.organisation, held.pillar) == (
            grant.role,
            grant.organisation,
            grant.pillar,
        ):
            return
    user.grants.append(
        RoleGrant(role=grant.role, organisation=grant.organisation, pillar=grant.pillar)
    )


def participant(user: User) -> Participant:
    """The user as the engine sees them: a name and the roles they hold."""
    return Participant(
        user.username,
        frozenset(Grant(g.role, g.organisation, g.pillar) for g in user.grants),
    )


def name_with_roles(session: Session, participant: Participant) -> str:
    """A person as a proposal names them: their name and the roles they hold, in words."""
    user = find_user(session, participant.username)
    name = user.display_name if user is not None else participant.username
    held = sorted(
        ", ".join(
            part
            for part in (
                ROLES[g.role].lane,
                partner_name(g.organisation) if g.organisation else None,
                g.pillar,
            )
            if part
        )
        for g in participant.grants
        if g.role in ROLES
    )
    return f"{name} ({'; '.join(held)})" if held else name
