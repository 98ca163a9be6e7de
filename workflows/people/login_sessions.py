"""Login sessions kept on the server: a cookie opens pages only while its session is live, and
logging out, a new password or a deactivated account ends it for good."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from engine import audit
from models import LoginSession, User
from workflows.people.holders import Holder, holder_of, holder_query

# Writing last_seen_at on every request would turn every page view into a write.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionRule:
    """How long a session may go unused, and how long it may last since login."""

    idle: timedelta | None
    lifetime: timedelta


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a session's secret is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, *, now: datetime, remote_addr: str | None) -> str:
    """A new session for `user`; its secret (for the cookie) is returned and never stored."""
    secret = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            secret_hash=secret_hash(secret),
            remote_addr=(remote_addr or "")[:64] or None,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return secret


# The session, its user and the user's roles, read together: one statement per request.
_HOLDER = holder_query(
    LoginSession.secret_hash,
    LoginSession.id,
    LoginSession.created_at,
    LoginSession.last_seen_at,
    LoginSession.ended_at,
)


def live_session(
    connection: Connection, secret: str, *, now: datetime, rule: SessionRule
) -> Holder | None:
    """Who the session with this secret belongs to, while it is live; else None.

    A session is live until it is ended, unused for longer than the rule's idle time (give
    or take SEEN_RESOLUTION), older than its lifetime, or its user is deactivated."""
    rows = connection.execute(_HOLDER, {"digest": secret_hash(secret)}).all()
    if not rows:
        return None
    found = rows[0]
    if found.ended_at is not None or not found.active:
        return None
    if now - found.created_at > rule.lifetime:
        return None
    if rule.idle is not None and now - found.last_seen_at > rule.idle + SEEN_RESOLUTION:
        return None
    if now - found.last_seen_at >= SEEN_RESOLUTION:
        connection.execute(
            update(LoginSession).where(LoginSession.id == found.id).values(last_seen_at=now)
        )
    return holder_of(rows)


def sessions_of(session: Session, user_id: int) -> list[LoginSession]:
    """A user's sessions not yet ended, the most recently used first."""
    return list(
        session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_session(session: Session, secret: str, *, now: datetime) -> None:
    """End the session with this secret (logging out; ending it twice changes nothing)."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.secret_hash == secret_hash(secret), LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(
    session: Session,
    user: User,
    *,
    now: datetime,
    actor: str,
    reason: str,
    keep_secret: str | None = None,
) -> int:
    """End every session of `user` (but the one with `keep_secret`); how many, audited."""
    ending = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep_secret is not None:
        ending = ending.where(LoginSession.secret_hash != secret_hash(keep_secret))
    ended = session.execute(ending.values(ended_at=now).returning(LoginSession.id)).all()
    audit.record(
        session,
        kind="sessions.ended",
        actor=actor,
        now=now,
        payload={"username": user.username, "reason": reason, "sessions": len(ended)},
    )
    return len(ended)
