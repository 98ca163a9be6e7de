"""What the mappings collect: needs, the responses to them, and the approved reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType

NEED_KINDS = ("legislative", "institutional", "operational")
PERSPECTIVES = ("prevention", "response")
SUB_PILLARS = (
    "legal_framework",
    "institutional_setup",
    "capacity_building",
    "coordination_cooperation",
)
# Where a need came from: a needs mapping, or a partner's update between mappings.
NEED_SOURCES = ("needs_mapping", "member_update")
NEED_STATUSES = ("open", "partly_addressed", "addressed", "no_longer_relevant")
# Who responds: the WB partner itself, or another member giving project support.
PROVIDER_KINDS = ("partner", "project_support")
# A response delivered in a response mapping is the mapping's draft until the Board approves
# its reports; only then do the members read it. Responses added in the database are approved.
RESPONSE_STATES = ("draft", "approved")


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
    source_kind: Mapped[str] = mapped_column(
        String(16), default="needs_mapping", server_default="needs_mapping"
    )
    source_year: Mapped[int] = mapped_column(Integer)
    source_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(24), default="open")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


class NeedChange(Base):
    """One change to a need between mappings: who, when, and each field before and after."""

    __tablename__ = "need_change"
    __table_args__ = (Index(None, "need_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(64))
    # {"field": {"before": ..., "after": ...}} for every field changed at once.
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Response(Base):
    """A response to a need: by the partner itself, or project support by another member."""

    __tablename__ = "need_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    # An organisation's code: the partner itself, or the member giving project support.
    provider: Mapped[str] = mapped_column(String(64))
    provider_kind: Mapped[str] = mapped_column(
        String(16), default="partner", server_default="partner"
    )
    description: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(16))
    # The year the response is reported for: the response mapping's year, or the year a
    # member gives when adding it in the database.
    year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    funding: Mapped[str | None] = mapped_column(String(255))
    # The response mapping that collected it (None: added in the database).
    source_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
    # draft: held by its response mapping until the Board approves the reports (RESPONSE_STATES).
    state: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


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
    # The edited report the Secretariat uploaded back (a document of the report's procedure).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="SET NULL"))
