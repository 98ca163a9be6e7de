"""Projections of the workflow state: the inbox (human_task) and the waiting timers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType

TASK_STATUSES = ("open", "completed", "withdrawn")


class HumanTask(Base):
    """A step that needs a person, offered to the holders of its role within its scope."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("task_guid"),
        Index(None, "status", "role", "organisation"),
        Index(None, "completed_by", "completed_at"),
        Index(None, "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_guid: Mapped[str] = mapped_column(String(36))
    process_key: Mapped[str] = mapped_column(String(128))
    bpmn_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    documentation: Mapped[str] = mapped_column(Text, default="")
    # What this one task is about, in a line (e.g. "Serbia, WBBSi"), from the `about` property.
    about: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(32))
    pillar: Mapped[str | None] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    form: Mapped[str | None] = mapped_column(String(255))
    # What the task's page shows above its form (the `shows` property: proposal, application,
    # list, mapped_needs, drafts); None: only the methodology's words.
    shows: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    # A step that may be left undone (e.g. extending a deadline): no reminders, no notice.
    optional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None]
    submitted: Mapped[dict[str, object] | None] = mapped_column(JSONType)

    def __repr__(self) -> str:
        return f"<HumanTask {self.bpmn_id} {self.role}/{self.organisation} {self.status}>"


class Timer(Base):
    """One waiting timer of one instance; the scheduler reads only this table."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_guid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(index=True)
