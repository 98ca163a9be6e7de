"""What the mappings collect: needs, the responses to them, and the approved reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

NEED_KINDS = ("legislative", "institutional", "operational")
PERSPECTIVES = ("prevention", "response")
SUB_PILLARS = (
    "legal_framework",
    "institutional_setup",
    "capacity_building",
    "coordination_cooperation",
)


class Need(Base):
    """A WB partner's security need in one pillar, from a needs mapping."""

    __tablename__ = "need"
    __table_args__ = (Index(None, "partner", "pillar", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(ForeignKey("organisation.code"))
    pillar: Mapped[str] = mapped_column(String(16))
    sub_pillar: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    perspective: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    source_year: Mapped[int] = mapped_column(Integer)
    source_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Response(Base):
    """A response to a need: by the partner itself, or project support by another member."""

    __tablename__ = "need_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    funding: Mapped[str | None] = mapped_column(String(255))
    source_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Report(Base):
    """A mapping report for one pillar and year, its summary, and the decision approving it."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    pillar: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), index=True
    )
    approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
