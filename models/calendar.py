"""Public holidays: the working-day calendar that deadlines in working days count on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class PublicHoliday(Base):
    """A day nobody is expected to work: for everyone (partner None) or for one partner."""

    __tablename__ = "public_holiday"
    __table_args__ = (UniqueConstraint("day", "partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    # None: the Secretariat's calendar, which counts for everyone.
    partner: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
