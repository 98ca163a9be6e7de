"""The working-day calendar: public holidays the Secretariat keeps, for all or per partner."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from models import Organisation, PublicHoliday


class CalendarError(ValueError):
    """A holiday cannot be added or removed as asked; the message says why."""


def public_holidays(session: Session, year: int) -> list[PublicHoliday]:
    """The holidays of a year, by day, the Secretariat's calendar before the partners'."""
    return list(
        session.scalars(
            select(PublicHoliday)
            .where(PublicHoliday.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(PublicHoliday.day, PublicHoliday.partner.is_not(None), PublicHoliday.partner)
        )
    )


def add_public_holiday(
    session: Session,
    day: date,
    name: str,
    *,
    partner: str | None,
    actor: str,
    now: datetime,
) -> PublicHoliday:
    """Add a holiday: for everyone (partner None, the Secretariat's calendar) or one partner."""
    if not name.strip():
        raise CalendarError("give the holiday's name")
    if partner is not None and session.get(Organisation, partner) is None:
        raise CalendarError(f"there is no partner '{partner}'")
    exists = session.scalars(
        select(PublicHoliday).where(
            PublicHoliday.day == day,
            PublicHoliday.partner.is_(None)
            if partner is None
            else PublicHoliday.partner == partner,
        )
    ).first()
    if exists is not None:
        raise CalendarError(f"{day:%d %B %Y} is already a holiday ({exists.name})")
    holiday = PublicHoliday(day=day, name=name.strip(), partner=partner)
    session.add(holiday)
    session.flush()
    audit.record(
        session,
        kind="calendar.holiday_added",
        actor=actor,
        now=now,
        payload={"day": day.isoformat(), "name": holiday.name, "partner": partner},
    )
    return holiday


def remove_public_holiday(session: Session, holiday_id: int, *, actor: str, now: datetime) -> None:
    """Remove a holiday from the calendar (deadlines already set keep their date)."""
    holiday = session.get(PublicHoliday, holiday_id)
    if holiday is None:
        raise CalendarError(f"there is no holiday {holiday_id}")
    audit.record(
        session,
        kind="calendar.holiday_removed",
        actor=actor,
        now=now,
        payload={"day": holiday.day.isoformat(), "name": holiday.name, "partner": holiday.partner},
    )
    session.delete(holiday)
    session.flush()
