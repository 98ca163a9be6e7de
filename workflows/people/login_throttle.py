"""Logging in, slowed for whoever keeps failing, without a lock anyone else can close.

Each failed login (wrong password, unknown name, deactivated account: all alike) is kept for
a day, by the name as typed and the address it came from. An attempt must wait, without its
password being checked, while any of these back-offs lasts:

- this name from this address: after 5 failures, 1 s after the last one, then 2 s, 4 s, ...
- this address, any name: after 30 failures, the same, after the address's last failure;
- this name from all addresses, after 30 failures, but only for an address that has itself
  failed for this name: the same, after that address's own last failure.

Every wait is at most 15 minutes. A stranger's failures elsewhere never hold up the right
password from an address that has not failed for that name, so nobody can lock a person out;
a successful login forgets that name's failures from that address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from engine import audit
from models import LoginFailure
from workflows.people.accounts import authenticate

_NAME_LENGTH = 64  # login_failure.username, audit_event.actor
_UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class ThrottleRule:
    """How many failures are free, how the wait grows past them, and how long failures count."""

    free_per_name_and_address: int = 5
    free_per_address: int = 30
    free_per_name: int = 30
    first_wait: timedelta = timedelta(seconds=1)
    longest_wait: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=24)

    def back_off(self, failures: int, free: int) -> timedelta:
        """The wait after `failures` failures of which `free` cost nothing (0 while free)."""
        if failures < free:
            return timedelta(0)
        # Capped before raising 2 to it: past 20 doublings every wait is the longest anyway.
        doublings = min(failures - free, 20)
        wait: timedelta = self.first_wait * (2**doublings)
        return min(wait, self.longest_wait)


@dataclass(frozen=True)
class LoginAttempt:
    """What an attempt came to: the user's id when the password was right (and whether a
    code from their authenticator must follow); a wait when it was not even tried."""

    user_id: int | None
    wait: timedelta | None = None
    needs_code: bool = False


def name_key(username: str) -> str:
    """The name as failures are counted: lowercased, as long as the column holds."""
    return username.strip().lower()[:_NAME_LENGTH]


def _failures(session: Session, *where: ColumnElement[bool]) -> tuple[int, datetime | None]:
    found = session.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(*where)
    ).one()
    return int(found[0]), found[1]


def wait_before_trying(
    session: Session, username: str, remote_addr: str | None, *, now: datetime, rule: ThrottleRule
) -> timedelta:
    """How long an attempt for `username` from `remote_addr` must still wait (0: try now)."""
    name = name_key(username)
    address = remote_addr or _UNKNOWN_ADDRESS
    since = now - rule.memory
    recent = LoginFailure.failed_at > since
    pair, pair_last = _failures(
        session, recent, LoginFailure.username == name, LoginFailure.remote_addr == address
    )
    from_address, address_last = _failures(session, recent, LoginFailure.remote_addr == address)
    ends = [now]
    if pair_last is not None:
        ends.append(pair_last + rule.back_off(pair, rule.free_per_name_and_address))
        # The name's failures from everywhere slow only an address that has failed too.
        in_all, _ = _failures(session, recent, LoginFailure.username == name)
        ends.append(pair_last + rule.back_off(in_all, rule.free_per_name))
    if address_last is not None:
        ends.append(address_last + rule.back_off(from_address, rule.free_per_address))
    return max(ends) - now


def attempt_login(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    rule: ThrottleRule,
    remote_addr: str | None,
) -> LoginAttempt:
    """Check the credentials unless a back-off lasts; every refusal audited alike."""
    actor = username[:_NAME_LENGTH] or "(blank)"
    wait = wait_before_trying(session, username, remote_addr, now=now, rule=rule)
    if wait > timedelta(0):
        audit.record(
            session,
            kind="login.throttled",
            actor=actor,
            now=now,
            payload={"remote_addr": remote_addr, "wait_seconds": wait.total_seconds()},
        )
        return LoginAttempt(None, wait)
    user, reason = authenticate(session, username, password)
    if user is not None:
        if user.totp_secret is not None:
            # The password alone signs nobody in: failures are forgotten only when the
            # code is right too, or guessing codes would start afresh with each password.
            return LoginAttempt(user.id, needs_code=True)
        signed_in(session, username, remote_addr)
        return LoginAttempt(user.id)
    record_failure(session, username, remote_addr, reason=reason, now=now, rule=rule)
    return LoginAttempt(None)


def signed_in(session: Session, username: str, remote_addr: str | None) -> None:
    """Forget this name's failures from this address: the person has signed in."""
    address = remote_addr or _UNKNOWN_ADDRESS
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == name_key(username), LoginFailure.remote_addr == address
        )
    )


def record_failure(
    session: Session,
    username: str,
    remote_addr: str | None,
    *,
    reason: str,
    now: datetime,
    rule: ThrottleRule,
) -> None:
    """Count a failed sign-in (a wrong password, or a wrong code at the second step) towards
    the back-offs, and put it on the audit trail."""
    address = remote_addr or _UNKNOWN_ADDRESS
    # Forgotten failures go as new ones come: the table holds at most a day's.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - rule.memory))
    session.add(LoginFailure(username=name_key(username), remote_addr=address[:64], failed_at=now))
    audit.record(
        session,
        kind="login.failed",
        actor=username[:_NAME_LENGTH] or "(blank)",
        now=now,
        payload={"reason": reason, "remote_addr": remote_addr},
    )


def forget_failures(session: Session, username: str, *, actor: str, now: datetime) -> int:
    """Forget every failed login for this name, from every address (`iisg user
    clear-failures`); how many were forgotten, audited."""
    forgotten = session.execute(
        delete(LoginFailure)
        .where(LoginFailure.username == name_key(username))
        .returning(LoginFailure.id)
    ).all()
    audit.record(
        session,
        kind="login.failures_cleared",
        actor=actor,
        now=now,
        payload={"username": name_key(username), "failures": len(forgotten)},
    )
    return len(forgotten)
