"""Date arithmetic a diagram may use in scripts and timer expressions (all ISO 8601 strings).

Working days are Monday to Friday; public holidays per partner arrive with the calendar
settings (the scheduler issue) and will be honoured here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import clock


def now_iso() -> str:
    """The operation's current time, ISO 8601 in UTC."""
    return clock.now().isoformat()


def _parse(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        raise ValueError(f"'{moment}' needs a time zone offset, like +01:00")
    return parsed


def add_days(moment: str, days: int) -> str:
    """`moment` plus calendar days."""
    return (_parse(moment) + timedelta(days=int(days))).isoformat()


def add_working_days(moment: str, days: int) -> str:
    """`moment` plus working days (Monday to Friday), at the same time of day."""
    current, left = _parse(moment), int(days)
    step = 1 if left >= 0 else -1
    while left:
        current += timedelta(days=step)
        if current.weekday() < 5:
            left -= step
    return current.isoformat()


def is_after(first: str, second: str) -> bool:
    """True when the moment `first` is later than `second`."""
    return _parse(first) > _parse(second)


DIAGRAM_FUNCTIONS = {
    "now_iso": now_iso,
    "add_days": add_days,
    "add_working_days": add_working_days,
    "is_after": is_after,
}
