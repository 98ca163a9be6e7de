"""Reminders before a deadline go only to those who have not answered; when the deadline passes
the Secretariat is told (PROCEDURES.md, section 2 and 'Cadence and deadlines')."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from engine.scheduler.passes import run_pass
from models import AuditEvent, OutboxMessage, User
from tests.workflows.board.test_silent_procedure import launch
from tests.workflows.conftest import Iisg
from workflows.calendar.holidays import add_public_holiday
from workflows.jobs.reminders import reminders_job
from workflows.settings import ProcedureSettings, ReminderSettings

SETTINGS = ProcedureSettings(reminders=ReminderSettings(working_days_before=(3, 1)))
# Launched on Monday 23 November 2026 at 09:00 UTC: ten working days end on Monday 7 December.
DEADLINE = datetime(2026, 12, 7, 9, tzinfo=UTC)


def _pass(iisg: Iisg) -> int:
    result = run_pass(iisg.db.factory, jobs=[reminders_job(SETTINGS)])
    assert not result.errors, result.errors
    return result.other


def _travel_to(iisg: Iisg, moment: datetime) -> None:
    iisg.clock.move(seconds=(moment - iisg.clock.now()).total_seconds())


def _mail(iisg: Iisg, kind: str) -> list[tuple[str, str]]:
    """(recipient's user name, subject) of each mail of this kind, in order."""
    with iisg.db.session() as s:
        rows = s.execute(
            select(User.username, OutboxMessage.subject)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        ).all()
        return [(username, subject) for username, subject in rows]


def _reminded(iisg: Iisg) -> list[str]:
    return sorted(username for username, _ in _mail(iisg, "reminder"))


def test_reminders_go_three_and_one_working_day_before_and_only_to_the_silent(
    iisg: Iisg,
) -> None:
    instance_id = launch(iisg)
    for seat in ("AL", "BA", "XK", "ME"):
        iisg.answer(seat, instance_id, "no_objection")

    result = run_pass(iisg.db.factory, jobs=[reminders_job(SETTINGS)])
    assert result.other == 0
    # The scheduler plans to wake for the first reminder: Wednesday 2 December, 09:00.
    assert result.next_due == datetime(2026, 12, 2, 9, tzinfo=UTC)

    _travel_to(iisg, datetime(2026, 12, 2, 8, 59, tzinfo=UTC))
    assert _pass(iisg) == 0
    _travel_to(iisg, datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert _pass(iisg) == 3
    assert _reminded(iisg) == ["board-ec", "board-mk", "board-rs"]
    assert {subject for _, subject in _mail(iisg, "reminder")} == {
        "Reminder: 'Answer the silent procedure' is due in 3 working days"
    }
    assert _pass(iisg) == 0, "each reminder goes once"

    iisg.answer("MK", instance_id, "no_objection")
    _travel_to(iisg, datetime(2026, 12, 4, 9, tzinfo=UTC))  # Friday, one working day before
    assert _pass(iisg) == 2
    assert _reminded(iisg) == ["board-ec", "board-ec", "board-mk", "board-rs", "board-rs"]

    with iisg.db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.kind == "task.reminded")).all()
        assert sorted((e.payload["working_days_before"], e.payload["to"][0]) for e in audit) == [
            (1, "board-ec"),
            (1, "board-rs"),
            (3, "board-ec"),
            (3, "board-mk"),
            (3, "board-rs"),
        ]


def test_the_deadline_passing_tells_the_secretariat_once_which_seats_were_silent(
    iisg: Iisg,
) -> None:
    instance_id = launch(iisg)
    for seat in ("AL", "BA", "XK", "ME", "MK"):
        iisg.answer(seat, instance_id, "no_objection")
    _travel_to(iisg, DEADLINE)
    result = run_pass(iisg.db.factory, jobs=[reminders_job(SETTINGS)])
    assert result.fired == {instance_id: ["deadline_passed"]}
    assert iisg.decision(instance_id).outcome == "adopted"
    assert _mail(iisg, "escalation") == [
        ("secretariat", "Deadline passed: Silent written procedure of the Board")
    ]
    with iisg.db.session() as s:
        body = s.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "escalation")).one()
    assert "2 step(s) were not done" in body
    assert "(Serbia)" in body and "(European Commission)" in body
    assert "Extend the deadline" not in body, "an optional step is not overdue"
    iisg.clock.move(minutes=5)
    assert _pass(iisg) == 0
    assert len(_mail(iisg, "escalation")) == 1


def test_the_optional_extension_step_gets_no_reminder(iisg: Iisg) -> None:
    launch(iisg)
    _travel_to(iisg, datetime(2026, 12, 2, 9, tzinfo=UTC))
    _pass(iisg)
    assert "secretariat" not in _reminded(iisg)
    assert len(_reminded(iisg)) == 7


def test_a_public_holiday_moves_the_reminder_a_working_day_earlier(iisg: Iisg) -> None:
    launch(iisg)  # the deadline is already set: Monday 7 December
    iisg.db.run(
        lambda s: add_public_holiday(
            s,
            date(2026, 12, 3),
            "Staff day",
            partner="RS",
            actor="secretariat",
            now=iisg.clock.now(),
        )
    )
    # Three working days before Monday 7 December, on Serbia's calendar, skip Thursday 3.
    _travel_to(iisg, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert _pass(iisg) == 1
    assert _reminded(iisg) == ["board-rs"]
    _travel_to(iisg, datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert _pass(iisg) == 6
    assert "board-rs" not in [u for u, _ in _mail(iisg, "reminder")][1:]


def test_an_extended_deadline_is_told_to_the_board_and_gets_its_reminders_again(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    _travel_to(iisg, datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert _pass(iisg) == 7
    new_deadline = DEADLINE + timedelta(days=7)
    iisg.complete(
        iisg.secretariat, "extend_deadline", instance_id, {"new_deadline": new_deadline.isoformat()}
    )
    # Every Board member is told of the new deadline.
    told = _mail(iisg, "notice")
    assert sorted(u for u, _ in told) == sorted(p.username for p in iisg.board.values())
    assert {s for _, s in told} == {"Deadline extended: Membership of the Applicant"}
    _travel_to(iisg, datetime(2026, 12, 9, 9, tzinfo=UTC))  # 3 working days before the new one
    assert _pass(iisg) == 7
    assert len(_reminded(iisg)) == 14


def test_a_reminder_missed_while_the_scheduler_was_down_goes_once_not_twice(iisg: Iisg) -> None:
    launch(iisg)
    # Down from before the first reminder until after the second: only the nearer one goes.
    _travel_to(iisg, datetime(2026, 12, 4, 10, tzinfo=UTC))
    assert _pass(iisg) == 7
    assert {s for _, s in _mail(iisg, "reminder")} == {
        "Reminder: 'Answer the silent procedure' is due in 1 working day"
    }
