"""Account lock-out: after too many wrong passwords in a row an account waits, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engine import audit
from models import User
from workflows.accounts import AccountError, authenticate, check_password, find_user

_ACTOR_LENGTH = 64  # audit_event.actor


@dataclass(frozen=True)
class LockoutRule:
    """How many wrong passwords in a row lock an account, and for how many minutes."""

    failures: int = 5
    minutes: int = 15


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt came to: the user's id on success, else the reason and any lock."""

    user_id: int | None
    reason: str
    locked_until: datetime | None = None


def is_locked(user: User, now: datetime) -> bool:
    """True while the user's lock lasts."""
    return user.locked_until is not None and user.locked_until > now


def attempt_login(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    rule: LockoutRule,
    remote_addr: str | None,
) -> LoginAttempt:
    """Check the credentials, count a wrong password, lock or unlock; every refusal audited."""
    account = find_user(session, username) if username else None
    if account is not None and account.locked_until is not None and not is_locked(account, now):
        _unlock(session, account, actor="system", now=now, why="the lock expired")
    if account is not None and is_locked(account, now):
        # The password is checked all the same and its verdict thrown away: a locked
        # account answers alike, and as slowly, whether the password was right or not.
        check_password(account, password)
        _failed(session, username, "account locked", now, remote_addr)
        return LoginAttempt(None, "account locked", account.locked_until)
    user, reason = authenticate(session, username, password)
    if user is not None:
        user.failed_logins = 0
        return LoginAttempt(user.id, "")
    _failed(session, username, reason, now, remote_addr)
    if account is None or reason != "wrong password":
        return LoginAttempt(None, reason)
    account.failed_logins = (account.failed_logins or 0) + 1
    if account.failed_logins < rule.failures:
        return LoginAttempt(None, reason)
    account.locked_until = now + timedelta(minutes=rule.minutes)
    audit.record(
        session,
        kind="auth.locked",
        actor=account.username,
        now=now,
        payload={
            "failures": account.failed_logins,
            "until": account.locked_until.isoformat(),
            "remote_addr": remote_addr,
        },
    )
    return LoginAttempt(None, reason, account.locked_until)


def unlock(session: Session, username: str, *, actor: str, now: datetime) -> User:
    """Lift a user's lock at once (the Secretariat's `iisg user unlock`); audited."""
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"there is no user '{username}'")
    _unlock(session, user, actor=actor, now=now, why="unlocked by hand")
    return user


def _unlock(session: Session, user: User, *, actor: str, now: datetime, why: str) -> None:
    was_locked_until = user.locked_until
    user.locked_until = None
    user.failed_logins = 0
    audit.record(
        session,
        kind="auth.unlocked",
        actor=actor,
        now=now,
        payload={
            "username": user.username,
            "reason": why,
            "was_locked_until": was_locked_until.isoformat() if was_locked_until else None,
        },
    )


def _failed(
    session: Session, username: str, reason: str, now: datetime, remote_addr: str | None
) -> None:
    audit.record(
        session,
        kind="login.failed",
        actor=username[:_ACTOR_LENGTH] or "(blank)",
        now=now,
        payload={"reason": reason, "remote_addr": remote_addr},
    )
