"""Date arithmetic a diagram may use in scripts and timer expressions (all ISO 8601 strings).

Working days are Monday to Friday, less the public holidays of the calendar: the
Secretariat's (which counts for everyone) and, when a partner is named, that partner's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import EngineError
from engine.services import maybe_current_operation
from models import PublicHoliday


def now_iso() -> str:
    """The operation's current time, ISO 8601 in UTC."""
    return clock.now().isoformat()


def parse_moment(value: object, what: str = "moment") -> datetime:
    """An ISO 8601 date and time with its offset; EngineError in plain words otherwise."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as err:
            raise EngineError(
                f"the {what} '{value}' is not a date and time, written YYYY-MM-DDThh:mm:ss+hh:mm"
            ) from err
    if parsed.tzinfo is None:
        raise EngineError(f"the {what} '{value}' needs a time zone offset, like +01:00")
    return parsed


def _parse(moment: str) -> datetime:
    return parse_moment(moment)


def add_days(moment: str, days: int) -> str:
    """`moment` plus calendar days."""
    return (_parse(moment) + timedelta(days=int(days))).isoformat()


def holidays_between(
    session: Session | None, partner: str | None, first: date, last: date
) -> set[date]:
    """The public holidays from `first` to `last` (the Secretariat's, and `partner`'s)."""
    if session is None:
        return set()
    whose: ColumnElement[bool] = PublicHoliday.partner.is_(None)
    if partner:
        whose = or_(whose, PublicHoliday.partner == partner)
    return set(
        session.scalars(
            select(PublicHoliday.day).where(PublicHoliday.day.between(first, last), whose)
        )
    )


def shift_working_days(
    session: Session | None,
    moment: datetime,
    days: int,
    partner: str | None = None,
    *,
    holidays: set[date] | None = None,
) -> datetime:
    """`moment` moved by working days (Monday to Friday, not a public holiday of the
    Secretariat's calendar or of `partner`'s), same time of day; negative days go back.

    `holidays`, when given, is used instead of reading them (it must cover the span)."""
    current, left = moment, int(days)
    step = 1 if left >= 0 else -1
    if holidays is None:
        reach = timedelta(days=abs(left) * 3 + 60)  # far enough for any run of holidays
        first, last = sorted((current.date(), (current + step * reach).date()))
        holidays = holidays_between(session, partner, first, last)
    while left:
        current += timedelta(days=step)
        if current.weekday() < 5 and current.date() not in holidays:
            left -= step
    return current


def add_working_days(moment: str, days: int, partner: str | None = None) -> str:
    """`moment` plus working days (Monday to Friday, not a public holiday), same time of day.

    For diagrams: the holidays are read in the running operation's unit of work."""
    context = maybe_current_operation()
    session = None if context is None else context.session
    return shift_working_days(session, _parse(moment), days, partner).isoformat()


def is_after(first: str, second: str) -> bool:
    """True when the moment `first` is later than `second`."""
    return _parse(first) > _parse(second)


DIAGRAM_FUNCTIONS = {
    "now_iso": now_iso,
    "add_days": add_days,
    "add_working_days": add_working_days,
    "is_after": is_after,
}
