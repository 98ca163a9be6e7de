"""Two-factor sign-in: a code from an authenticator app (TOTP, RFC 6238, by pyotp) after the
password, and single-use recovery codes for a lost phone. Required for the people whose
answers bind the IISG (the Secretariat and the Board) when the setting says so."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from models import RecoveryCode, User
from workflows.people.accounts import check_password, existing_user
from workflows.people.login_sessions import end_sessions_of
from workflows.people.login_throttle import (
    LoginAttempt,
    ThrottleRule,
    record_failure,
    signed_in,
    wait_before_trying,
)
from workflows.people.roles import SECRETARIAT

ISSUER = "IISG Procedures"
# The roles whose holders must sign in with a second factor when the setting requires it.
BINDING_ROLES = frozenset({SECRETARIAT, "board_member"})
RECOVERY_CODES = 10
# Letters and digits nobody misreads (no 0/o, 1/l/i).
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# A code from the step before or after is accepted too: phones' clocks drift.
_DRIFT = (0, -1, 1)


def binds_the_iisg(user: User) -> bool:
    """Whether the person holds a role whose answers bind the IISG."""
    return any(grant.role in BINDING_ROLES for grant in user.grants)


def new_secret() -> str:
    """A fresh shared secret for an authenticator app (base32, 160 bits)."""
    return pyotp.random_base32(length=32)


def enrolment_uri(secret: str, username: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _normal(typed: str) -> str:
    return "".join(typed.split()).replace("-", "").lower()


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode("ascii", "replace")).hexdigest()


def _step_of(secret: str, typed: str, now: datetime) -> int | None:
    """The time step `typed` is the app's code for, around `now`; None if none."""
    code = _normal(typed)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    for drift in _DRIFT:
        moment = now + timedelta(seconds=drift * totp.interval)
        if hmac.compare_digest(totp.at(moment), code):
            step: int = totp.timecode(moment)
            return step
    return None


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(code), created_at=now))
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    """How many of the person's recovery codes are still unused."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def turn_on(session: Session, user: User, secret: str, typed: str, *, now: datetime) -> list[str]:
    """Turn on two-factor sign-in with the secret the person's app now holds, once they typed
    its current code; their recovery codes are returned (shown once, kept only hashed)."""
    step = _step_of(secret, typed, now)
    if step is None:
        raise Refused(
            "code",
            "That is not the code the app shows now. Type the six digits it shows for IISG "
            "Procedures; if it is right, check that the phone's clock is set automatically.",
        )
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now, step
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session,
        kind="account.two_factor_on",
        actor=user.username,
        now=now,
        payload={"username": user.username},
    )
    return codes


def code_is_right(session: Session, user: User, typed: str, *, now: datetime) -> bool:
    """Whether `typed` signs the person in: the app's current code (each good once) or an
    unused recovery code (used up by this)."""
    if user.totp_secret is None:
        return False
    step = _step_of(user.totp_secret, typed, now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # a code seen already: perhaps by someone looking over a shoulder
        user.totp_last_step = step
        return True
    recovery = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(typed),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if recovery is None:
        return False
    recovery.used_at = now
    audit.record(
        session,
        kind="account.recovery_code_used",
        actor=user.username,
        now=now,
        payload={"username": user.username, "left": recovery_codes_left(session, user)},
    )
    return True


def attempt_code(
    session: Session,
    user_id: int,
    typed: str,
    *,
    now: datetime,
    rule: ThrottleRule,
    remote_addr: str | None,
) -> LoginAttempt:
    """The second step of a sign-in: a wrong code counts as a failed login, and the same
    back-offs hold it up as wrong passwords do."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return LoginAttempt(None)
    wait = wait_before_trying(session, user.username, remote_addr, now=now, rule=rule)
    if wait > timedelta(0):
        return LoginAttempt(None, wait)
    if not code_is_right(session, user, typed, now=now):
        record_failure(session, user.username, remote_addr, reason="wrong code", now=now, rule=rule)
        return LoginAttempt(None)
    signed_in(session, user.username, remote_addr)
    return LoginAttempt(user.id)


def new_recovery_codes(session: Session, user: User, typed: str, *, now: datetime) -> list[str]:
    """Replace the person's recovery codes, once they typed their app's current code."""
    step = _step_of(user.totp_secret, typed, now) if user.totp_secret else None
    if step is None:
        raise Refused("code", "That is not the code your app shows now.")
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session,
        kind="account.recovery_codes_renewed",
        actor=user.username,
        now=now,
        payload={"username": user.username},
    )
    return codes


def turn_off(session: Session, user: User, password: str, *, required: bool, now: datetime) -> None:
    """Turn off two-factor sign-in (the password asked); refused where the person's roles
    require it."""
    if required and binds_the_iisg(user):
        raise Refused(
            "password",
            "Your role (Secretariat or Board) requires a second factor: it stays on. If your "
            "phone is lost, sign in with a recovery code and set up the new phone.",
        )
    if not check_password(user, password):
        raise Refused("password", "That is not your password.")
    _forget(session, user)
    audit.record(
        session,
        kind="account.two_factor_off",
        actor=user.username,
        now=now,
        payload={"username": user.username},
    )


def _forget(session: Session, user: User) -> None:
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset_two_factor(session: Session, username: str, *, actor: str, now: datetime) -> User:
    """For a person who lost their phone and their recovery codes (`iisg user
    reset-two-factor`): the second factor is removed and every session ends; audited. They set
    it up again at their next sign-in where their role requires it."""
    user = existing_user(session, username)
    _forget(session, user)
    audit.record(
        session,
        kind="account.two_factor_reset",
        actor=actor,
        now=now,
        payload={"username": user.username},
    )
    end_sessions_of(session, user, now=now, actor=actor, reason="second factor reset")
    return user
