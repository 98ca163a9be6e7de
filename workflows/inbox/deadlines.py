"""How near each task's due time is: due soon from the moment its first reminder goes out
(the reminder settings' largest number of working days before it, on the partner's
calendar), overdue once it has passed. The reminders and the pages count alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from engine.sandbox.dates import holidays_between, shift_working_days
from models import HumanTask
from workflows.settings import ReminderSettings

# Reminders are looked for among tasks due within this many days (3 working days back from a
# due time never reach further, even across a fortnight of holidays).
HORIZON = timedelta(days=30)

Nearness = Literal["overdue", "due_soon", "later"]


@dataclass(frozen=True)
class Deadline:
    """How near a task's due time is, and the time left (or past, when overdue)."""

    nearness: Nearness
    left: timedelta


def reminder_moments(
    session: Session,
    task: HumanTask,
    offsets: Iterable[int],
    holidays: set[date] | None = None,
) -> dict[int, datetime]:
    """When each reminder of the task goes out, by its working days before the due time."""
    assert task.due_at is not None
    return {
        n: shift_working_days(session, task.due_at, -n, task.organisation, holidays=holidays)
        for n in offsets
    }


class _Calendars:
    """The holidays of each partner's calendar around `now`, read once for many tasks."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._first, self._last = (now - HORIZON).date(), (now + HORIZON).date()
        self._read: dict[str | None, set[date]] = {}

    def of(self, partner: str | None) -> set[date]:
        if partner not in self._read:
            self._read[partner] = holidays_between(self._session, partner, self._first, self._last)
        return self._read[partner]


def deadlines(
    session: Session, tasks: Iterable[HumanTask], now: datetime, reminders: ReminderSettings
) -> dict[int, Deadline]:
    """Each task's deadline by task id (tasks without a due time are left out). Without
    reminders in the settings, nothing is due soon; a task is still overdue."""
    calendars = _Calendars(session, now)
    first = max(reminders.working_days_before, default=None)
    found: dict[int, Deadline] = {}
    for task in tasks:
        if task.due_at is None:
            continue
        left = task.due_at - now
        if left <= timedelta(0):
            found[task.id] = Deadline("overdue", -left)
            continue
        soon = (
            first is not None
            and left <= HORIZON
            and reminder_moments(session, task, [first], calendars.of(task.organisation))[first]
            <= now
        )
        found[task.id] = Deadline("due_soon" if soon else "later", left)
    return found


def deadline_of(
    session: Session, task: HumanTask, now: datetime, reminders: ReminderSettings
) -> Deadline | None:
    """One task's deadline (None when it has no due time)."""
    return deadlines(session, [task], now, reminders).get(task.id)
