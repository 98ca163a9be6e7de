"""Process definitions (one row per version) and the instances that run on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType

DEFINITION_STATUSES = ("draft", "proposed", "active", "retired")
INSTANCE_STATUSES = ("running", "completed", "cancelled", "error")


class ProcessDefinition(Base):
    """One version of one BPMN process: its XML, form files and the spec parsed once."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(255))
    # The two large columns are read only when used: a step needs the (cached) spec objects,
    # not 40 KB of text per read (docs/BENCHMARKS.md).
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    # Every other file the version needs: called diagrams and form schemas, by file name.
    files: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime | None]
    adopted_by_decision_id: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<ProcessDefinition {self.process_key} v{self.version} {self.status}>"


class ProcessInstance(Base):
    """A running or finished procedure; its state is stored without the spec."""

    __tablename__ = "process_instance"
    __table_args__ = (Index(None, "process_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True, default="running")
    business_key: Mapped[str | None] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    state_json: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The versions of the processes it calls, fixed at start: {process id: definition id}.
    called_definitions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 - read once by SQLAlchemy

    def __repr__(self) -> str:
        return f"<ProcessInstance {self.id} {self.process_key} {self.status}>"
