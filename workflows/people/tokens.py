"""Personal access tokens: made and revoked by their user, checked on every API request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from engine import audit
from models import ApiToken, User
from workflows.people.accounts import find_user
from workflows.people.holders import Holder, holder_of, holder_query

# Marks a string as ours, so secret scanners and people recognise a leaked token.
TOKEN_MARK = "iisg_"  # noqa: S105 (a marker, not a secret)
SHOWN_PREFIX = 8
NAME_LENGTH = 100
# Writing last_used_at on every call would turn every read into a write.
USE_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be made or revoked as asked; the message says why."""


def token_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a secret is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session, user: User, name: str, *, now: datetime, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` and its secret, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise TokenError("give the token a name that says where it is used")
    if len(name) > NAME_LENGTH:
        raise TokenError(f"a token's name has at most {NAME_LENGTH} characters")
    secret = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[:SHOWN_PREFIX],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        kind="token.created",
        actor=user.username,
        now=now,
        payload={"token_id": token.id, "name": name, "prefix": token.prefix},
    )
    return token, secret


def create_token_for(
    session: Session, username: str, name: str, *, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for the user named `username` (an operator's command); refuses a stranger."""
    user = find_user(session, username)
    if user is None:
        raise TokenError(f"there is no user '{username}'")
    if not user.active:
        raise TokenError(f"'{username}' is deactivated, so a token would not work")
    return create_token(session, user, name, now=now)


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens, the newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, token_id: int, *, user: User, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens (revoking it twice changes nothing)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise TokenError("you have no such token; it may have been removed")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(
            session,
            kind="token.revoked",
            actor=user.username,
            now=now,
            payload={"token_id": token.id, "name": token.name, "prefix": token.prefix},
        )
    return token


# The token, its user and the user's roles, read together: one statement per API request,
# of plain columns (building ORM objects for it cost more than the statement).
_HOLDER = holder_query(
    ApiToken.token_hash,
    ApiToken.id,
    ApiToken.revoked_at,
    ApiToken.expires_at,
    ApiToken.last_used_at,
)


def authenticate_token(connection: Connection, secret: str, *, now: datetime) -> Holder | None:
    """The active user a valid secret belongs to; None if unknown, revoked or expired.

    On a connection, not a session: the check runs on every API request, where an ORM
    session's machinery would cost more than its one read."""
    if not secret.startswith(TOKEN_MARK):
        return None
    rows = connection.execute(_HOLDER, {"digest": token_hash(secret)}).all()
    if not rows:
        return None
    token = rows[0]
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        connection.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return holder_of(rows)
