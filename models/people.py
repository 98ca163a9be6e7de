"""Organisations, users and the roles they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Organisation(Base):
    """An IISG member or applicant: a WB partner, an international partner, an EU body."""

    __tablename__ = "organisation"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    member_group: Mapped[str] = mapped_column(String(32))
    is_member: Mapped[bool] = mapped_column(Boolean, default=False)
    # applicant, member, not_confirmed, withdrawn (the application), or notified (an EU JHA
    # agency, by notification)
    status: Mapped[str] = mapped_column(String(16), default="member")
    member_since: Mapped[datetime | None]
    # Why an organisation is a member without the Board's approval (`002_*`, section 1):
    # former_lead_partner or secretariat_host; None for every other member.
    by_right: Mapped[str | None] = mapped_column(String(32))
    # One of the Board's seven seats: the six WB partners and the European Commission.
    board_seat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class User(Base):
    """A person who logs in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    # The organisation the person works for (a member, an applicant), by its code; None for
    # nobody's. Checked against the register when set (workflows/people/management.py): a
    # foreign key would make SQLite rebuild this table, which every login row refers to.
    organisation: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # immediate: each mail as it comes; digest: one mail a day with everything.
    mail_mode: Mapped[str] = mapped_column(
        String(16), default="immediate", server_default="immediate"
    )
    # Two-factor sign-in: the authenticator app's shared secret (base32) once the person has
    # confirmed it with a code, and the last time step a code was accepted for (a code is
    # good once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class RoleGrant(Base):
    """A role a user holds, optionally within one organisation and one pillar."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "organisation", "pillar"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64), index=True)
    organisation: Mapped[str | None] = mapped_column(ForeignKey("organisation.code"))
    pillar: Mapped[str | None] = mapped_column(String(16))
    # A Board seat's designated alternate (ToR 1.2.3: a replacement in cases of urgent
    # absence) holds board_member for the seat like its member, so both see and answer the
    # seat's tasks; this says which of the two they are.
    alternate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(back_populates="grants")
