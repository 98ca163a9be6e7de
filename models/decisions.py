"""Board decisions: what was put to the Board, how, and each seat's answer or silence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType

DECISION_METHODS = ("silent_procedure", "meeting")
OUTCOMES = ("adopted", "not_adopted", "withdrawn")
ANSWERS = ("no_objection", "objection", "silence")


class Decision(Base):
    """The record of one Board decision."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the proposal's text alone (UTF-8).
    text_sha256: Mapped[str] = mapped_column(String(64))
    # The documents as frozen at launch: {id, name, media_type, size, sha256} for each file;
    # records made before documents were files hold names or {name, url} entries instead.
    documents: Mapped[list[object]] = mapped_column(JSONType, default=list)
    # SHA-256 over the text's hash and each document's, in order (workflows.board.frozen);
    # None for a record whose documents were names, which no hash can cover.
    frozen_sha256: Mapped[str | None] = mapped_column(String(64))
    launched_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    deadline_extended: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_reason: Mapped[str | None] = mapped_column(String(64))
    minutes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    on_next_meeting_agenda: Mapped[bool] = mapped_column(default=False)
    # Why the procedure was withdrawn before the Board decided (outcome `withdrawn`).
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    answers: Mapped[list[DecisionAnswer]] = relationship(
        back_populates="decision",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DecisionAnswer.seat",
    )


class DecisionAnswer(Base):
    """One seat's answer in a silent procedure (or its silence), and who gave it."""

    __tablename__ = "decision_answer"
    __table_args__ = (UniqueConstraint("decision_id", "seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    seat: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]

    decision: Mapped[Decision] = relationship(back_populates="answers")
