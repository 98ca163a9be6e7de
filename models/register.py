"""The member register's focal points (organisations themselves are in people.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

FOCAL_POINT_KINDS = ("official", "WBCTi", "WBCSCi", "WBBSi")


class FocalPoint(Base):
    """A member's focal point: for official correspondence, or for one pillar."""

    __tablename__ = "focal_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisation.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[str | None] = mapped_column(String(255))
    nominated_at: Mapped[datetime]
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL")
    )
