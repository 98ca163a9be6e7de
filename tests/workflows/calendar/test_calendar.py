"""Deadlines in working days count the calendar: weekends and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.sandbox.dates import add_working_days
from engine.services import OperationContext, operation
from models import AuditEvent
from tests.workflows.conftest import Iisg
from workflows.calendar.holidays import CalendarError, add_public_holiday, public_holidays

FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def holiday(iisg: Iisg, day: date, name: str, partner: str | None = None) -> None:
    iisg.db.run(
        lambda s: add_public_holiday(
            s, day, name, partner=partner, actor="secretariat", now=iisg.clock.now()
        )
    )


def launch_on_friday(iisg: Iisg) -> datetime:
    iisg.clock.move(days=4)  # from Monday 23 to Friday 27 November 2026
    assert iisg.clock.now() == FRIDAY
    instance_id = iisg.start("silent_procedure", {"subject": "s", "proposal": "p"})
    deadline = iisg.decision(instance_id).deadline
    assert deadline is not None
    return deadline


def test_ten_working_days_from_a_friday_end_on_the_friday_two_weeks_later(iisg: Iisg) -> None:
    assert launch_on_friday(iisg) == datetime(2026, 12, 11, 9, 0, tzinfo=UTC)


def test_a_holiday_of_the_secretariat_moves_the_deadline_by_a_working_day(iisg: Iisg) -> None:
    holiday(iisg, date(2026, 12, 1), "A day the Secretariat is closed")
    holiday(iisg, date(2026, 12, 5), "A Saturday holiday changes nothing")
    assert launch_on_friday(iisg) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # the Monday


def test_a_partners_holiday_counts_only_for_that_partner(iisg: Iisg) -> None:
    holiday(iisg, date(2026, 12, 2), "A Serbian holiday", partner="RS")
    assert launch_on_friday(iisg) == datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    with iisg.db.session() as s, operation(OperationContext(s, 0, "tests", FRIDAY)):
        start = FRIDAY.isoformat()
        assert add_working_days(start, 10, "RS") == "2026-12-14T09:00:00+00:00"
        assert add_working_days(start, 10, "AL") == "2026-12-11T09:00:00+00:00"


def test_the_calendar_refuses_a_day_twice_and_an_unknown_partner(iisg: Iisg) -> None:
    holiday(iisg, date(2026, 12, 25), "Christmas Day")
    with pytest.raises(CalendarError, match="already a holiday"):
        holiday(iisg, date(2026, 12, 25), "Christmas")
    with pytest.raises(CalendarError, match="no partner 'ZZ'"):
        holiday(iisg, date(2026, 12, 26), "Boxing Day", partner="ZZ")
    with iisg.db.session() as s:
        assert [h.name for h in public_holidays(s, 2026)] == ["Christmas Day"]
        assert s.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind.like("calendar.%"))
        ).all() == ["calendar.holiday_added"]
