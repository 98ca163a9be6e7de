"""Single-use links mailed to a person: to set a new password when they forgot theirs (and,
with an invitation, their first). The mail carries a random secret; the database keeps only
its hash, when it runs out and when it was used."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import audit
from models import AccountLink, User
from workflows.mail.compose import enqueue, page_link, when
from workflows.people.accounts import change_password, find_user

RESET = "password_reset"
# One reset mail per person in this time, however often the form is sent: nobody can fill a
# person's mailbox with links.
RESET_MAIL_INTERVAL = timedelta(minutes=5)


def link_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a link's secret is kept and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_link(
    session: Session, user: User, purpose: str, *, now: datetime, valid: timedelta
) -> str:
    """A new link for `user`; its secret (for the mail) is returned and never stored."""
    secret = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            secret_hash=link_hash(secret),
            created_at=now,
            expires_at=now + valid,
        )
    )
    return secret


def live_link(session: Session, secret: str, purpose: str, *, now: datetime) -> User | None:
    """The active person a link is for, while it is unused and unexpired; else None."""
    found = session.execute(
        select(AccountLink, User)
        .join(User, User.id == AccountLink.user_id)
        .where(AccountLink.secret_hash == link_hash(secret), AccountLink.purpose == purpose)
    ).first()
    if found is None:
        return None
    link, user = found
    if link.used_at is not None or link.expires_at <= now or not user.active:
        return None
    return user


def _person_named(session: Session, name_or_address: str) -> User | None:
    """The active person with this user name or e-mail address (in any case)."""
    typed = name_or_address.strip()
    if not typed:
        return None
    user = find_user(session, typed)
    if user is None and "@" in typed:
        user = session.scalars(
            select(User).where(func.lower(User.email) == typed.lower()).order_by(User.id)
        ).first()
    return user if user is not None and user.active and user.email else None


def request_password_reset(
    session: Session, name_or_address: str, *, now: datetime, valid: timedelta
) -> None:
    """Mail a link to set a new password to the person with this user name or address.

    The caller answers the same whether or not there is such a person, so the form tells no
    one who has an account; the audit trail says what happened."""
    user = _person_named(session, name_or_address)
    if user is None:
        return
    recent = session.scalar(
        select(func.count())
        .select_from(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == RESET,
            AccountLink.created_at > now - RESET_MAIL_INTERVAL,
        )
    )
    if recent:
        return
    secret = issue_link(session, user, RESET, now=now, valid=valid)
    link = page_link(f"/login/reset/{secret}")
    enqueue(
        session,
        user,
        subject="Set a new password for IISG Procedures",
        body=(
            f"Hello {user.display_name},\n\n"
            "Someone (we hope you) asked to set a new password for your account in IISG "
            f"Procedures, user name {user.username}. Open this link to choose one:\n\n"
            f"{link}\n\n"
            f"The link works once, until {when(now + valid)}. If you did not ask for it, "
            "ignore this mail: your password stays as it is.\n"
        ),
        kind="account",
        now=now,
        at_once=True,
    )
    audit.record(
        session,
        kind="account.password_reset_requested",
        actor=user.username,
        now=now,
        payload={"username": user.username},
    )


def set_password_through_link(
    session: Session, secret: str, purpose: str, password: str, *, now: datetime
) -> User | None:
    """Set the password a person chose through a link of `purpose` (the policy's refusal
    names `new_password`), and use up every open link of theirs for it; every session ends.
    None when the link is unknown, used or expired."""
    user = live_link(session, secret, purpose, now=now)
    if user is None:
        return None
    change_password(
        session, user.username, password, actor=user.username, now=now, field="new_password"
    )
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return user


def reset_password(session: Session, secret: str, password: str, *, now: datetime) -> User | None:
    """Set the password the person chose through a reset link (see set_password_through_link)."""
    return set_password_through_link(session, secret, RESET, password, now=now)
