"""Login sessions, revocable on the server, and the failed logins that slow the next attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class LoginSession(Base):
    """One login in one browser: the cookie carries a secret whose hash is kept here."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 (hex) of the cookie's random secret, as for API tokens: looked up, never shown.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # Written at most once a minute (workflows/people/login_sessions.py), not on every request.
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A login refused after its password was checked: by user name (as typed) and address."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The name as typed, lowercased: unknown names are counted exactly like known ones.
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)


ACCOUNT_LINK_PURPOSES = ("password_reset", "invitation")


class AccountLink(Base):
    """A single-use link mailed to a person: to set a new password, or to accept an
    invitation. The mail carries a random secret; only its hash is kept here."""

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A single-use code that signs a person in when their authenticator is lost; shown to
    them once, kept here only as its SHA-256."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
