"""Board decisions: what was put to the Board, how, and each seat's answer or silence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType

DECISION_METHODS = ("silent_procedure", "meeting")
# A decision's own outcome. A silent procedure an objection broke decided nothing: its
# `final_outcome` comes from the meeting that followed, or the Secretariat's withdrawal.
OUTCOMES = ("adopted", "not_adopted", "silence_broken", "withdrawn")
FINAL_OUTCOMES = ("adopted", "not_adopted", "withdrawn")
# Silence counts as agreement only once the deadline passed; a seat that had not answered when
# an objection closed the procedure early gave no answer.
ANSWERS = ("no_objection", "objection", "silence", "no_answer")
# What the Board gave one item of a list (an application on a membership list) on a record:
# confirmed or not; silence_broken: an objection named it, so the meeting decides it.
ITEM_OUTCOMES = ("confirmed", "not_confirmed", "silence_broken")
# An item's final outcome, what the procedure that asked acts on for it.
FINAL_ITEM_OUTCOMES = ("confirmed", "not_confirmed", "withdrawn")


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
    # The Board's final outcome on the matter, what the procedure that asked acts on: set with
    # the outcome, except for a broken silent procedure (set by the meeting, or a withdrawal).
    final_outcome: Mapped[str | None] = mapped_column(String(16))
    # Why the matter was withdrawn: its procedure withdrawn while the Board decided, or the
    # Secretariat's withdrawal after a broken silent procedure.
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # The meeting decision that followed a broken silent procedure on the same matter.
    followed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", ondelete="SET NULL"), index=True
    )

    followed_by: Mapped[Decision | None] = relationship(
        remote_side=[id], back_populates="follows", foreign_keys=[followed_by_id]
    )
    follows: Mapped[list[Decision]] = relationship(
        back_populates="followed_by", foreign_keys=[followed_by_id]
    )
    answers: Mapped[list[DecisionAnswer]] = relationship(
        back_populates="decision",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DecisionAnswer.seat",
    )
    items: Mapped[list[DecisionItem]] = relationship(
        back_populates="decision",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DecisionItem.position",
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
    # The keys of the items an objection named (None: it concerns the whole proposal).
    concerns: Mapped[list[str] | None] = mapped_column(JSONType)

    decision: Mapped[Decision] = relationship(back_populates="answers")


class DecisionItem(Base):
    """One item of a list the Board decides on, each on its own (an application on a
    membership list), and the outcome this record gives it."""

    __tablename__ = "decision_item"
    __table_args__ = (UniqueConstraint("decision_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str | None] = mapped_column(String(16))

    decision: Mapped[Decision] = relationship(back_populates="items")
