"""Mail and the scheduler's own records: the outbox, once-only notices, recurring starts, passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# pending: to be sent at once; digest: waits for the person's daily digest; sent; bundled: went
# out inside a digest; failed: gave up after the last retry; no_address: the person has no mail.
OUTBOX_STATUSES = ("pending", "digest", "sent", "bundled", "failed", "no_address")
MAIL_MODES = ("immediate", "digest")


class OutboxMessage(Base):
    """One mail to one person, written in the same unit of work as the event it tells of."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a mail to an address with no account behind it (an applicant known only by the
    # addresses they gave), or when the person's account is gone.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recipient: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    # reminder, escalation, new_task, digest, ...
    kind: Mapped[str] = mapped_column(String(32))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # The digest message that carried this one (status 'bundled').
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )


class Notice(Base):
    """A reminder, escalation or digest that has been sent: its key is written once, ever."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class RecurringStart(Base):
    """A procedure started by its schedule for one period (a year, or two): never twice."""

    __tablename__ = "recurring_start"
    __table_args__ = (UniqueConstraint("schedule", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime]


class SchedulerPass(Base):
    """One pass of a scheduler process: what it did, for `iisg scheduler status` and /health."""

    __tablename__ = "scheduler_pass"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime]
    fired: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # Work done by the procedures' own jobs (reminders written, procedures started, ...).
    other: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
