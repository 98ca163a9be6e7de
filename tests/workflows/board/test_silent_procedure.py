"""The Board's silent written procedure (PROCEDURES.md, section 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import FormInvalid, NotAllowed, Refused, TaskAlreadyDone
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task
from models import AuditEvent, Decision, HumanTask, ProcessInstance, Timer
from tests.workflows.conftest import Iisg
from workflows.board.frozen import text_hash

PROPOSAL = "The Board admits the Applicant as an IISG member."
SEATS = ("AL", "BA", "XK", "ME", "MK", "RS", "EC")


def launch(
    iisg: Iisg, deadline: datetime | None = None, notice: timedelta = timedelta(hours=24)
) -> int:
    return iisg.start(
        "silent_procedure",
        {
            "subject": "Membership of the Applicant",
            "proposal": PROPOSAL,
            "deadline": deadline.isoformat() if deadline else None,
        },
        notice=notice,
    )


def deadline_of(iisg: Iisg, instance_id: int) -> datetime:
    deadline = iisg.decision(instance_id).deadline
    assert deadline is not None
    return deadline


def test_each_seat_gets_its_own_task_and_the_text_is_frozen(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    for seat in SEATS:
        tasks = iisg.tasks_of(iisg.board[seat], instance_id)
        assert [(t.bpmn_id, t.organisation) for t in tasks] == [("answer_silent_procedure", seat)]
    decision = iisg.decision(instance_id)
    assert decision.text == PROPOSAL and decision.text_sha256 == text_hash(PROPOSAL)
    assert decision.closed_at is None


def test_the_default_deadline_is_ten_working_days_and_every_task_shows_it(iisg: Iisg) -> None:
    instance_id = launch(iisg)  # launched on Monday 23 November 2026, 09:00 UTC
    expected = iisg.clock.now() + timedelta(days=14)  # ten working days: two full weeks
    assert deadline_of(iisg, instance_id) == expected
    assert {t.due_at for t in iisg.tasks_of(iisg.board["RS"], instance_id)} == {expected}


def test_silence_until_the_deadline_counts_as_agreement(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    for seat in ("AL", "BA", "XK"):
        iisg.answer(seat, instance_id, "no_objection")
    iisg.clock.move(days=13, hours=23)
    assert iisg.scheduler_pass().fired_count == 0
    assert iisg.decision(instance_id).closed_at is None

    iisg.clock.move(hours=1, seconds=1)
    iisg.scheduler_pass()
    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.outcome_reason) == ("adopted", "silence_at_deadline")
    assert decision.recorded_by == "scheduler"
    answers = {a.seat: (a.answer, a.answered_by) for a in decision.answers}
    assert answers == {
        "AL": ("no_objection", "board-al"),
        "BA": ("no_objection", "board-ba"),
        "XK": ("no_objection", "board-xk"),
        "ME": ("silence", None),
        "MK": ("silence", None),
        "RS": ("silence", None),
        "EC": ("silence", None),
    }
    assert iisg.task_statuses(instance_id, "answer_silent_procedure").count("withdrawn") == 4
    assert iisg.task_statuses(instance_id, "extend_deadline") == ["withdrawn"]


def test_seven_no_objections_adopt_it_at_once(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    for seat in SEATS:
        iisg.answer(seat, instance_id, "no_objection")
    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.outcome_reason) == ("adopted", "all_no_objection")
    assert decision.closed_at == iisg.clock.now()
    assert iisg.task_statuses(instance_id, "extend_deadline") == ["withdrawn"]
    with iisg.db.session() as s:
        assert s.scalars(select(Timer).where(Timer.instance_id == instance_id)).all() == []


def test_one_objection_breaks_the_silence_at_once_and_withdraws_the_rest(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    iisg.answer("AL", instance_id, "no_objection")
    iisg.answer("RS", instance_id, "objection", "The assessment of the criteria is incomplete.")
    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.outcome_reason) == ("silence_broken", "objection")
    assert decision.final_outcome is None, "an objection decides nothing"
    assert decision.recorded_by == "board-rs"
    assert decision.on_next_meeting_agenda
    # No deadline passed: the seats that had not answered gave no answer, not their silence.
    assert {a.seat: a.answer for a in decision.answers} == {
        "AL": "no_objection",
        "RS": "objection",
        "BA": "no_answer",
        "XK": "no_answer",
        "ME": "no_answer",
        "MK": "no_answer",
        "EC": "no_answer",
    }
    objection = next(a for a in decision.answers if a.seat == "RS")
    assert (objection.answer, objection.reason, objection.answered_by) == (
        "objection",
        "The assessment of the criteria is incomplete.",
        "board-rs",
    )
    assert iisg.task_statuses(instance_id, "answer_silent_procedure") == [
        "completed",
        "completed",
        "withdrawn",
        "withdrawn",
        "withdrawn",
        "withdrawn",
        "withdrawn",
    ]
    assert iisg.tasks_of(iisg.board["ME"], instance_id) == []
    assert iisg.data(instance_id)["silent_procedure_result"]["objections"] == [
        {"seat": "RS", "reason": "The assessment of the criteria is incomplete."}
    ]


def test_an_objection_needs_a_reason(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    with pytest.raises(FormInvalid) as refused:
        iisg.answer("BA", instance_id, "objection")
    assert refused.value.errors == {"reason": "this field is required"}
    assert iisg.decision(instance_id).closed_at is None


def test_a_board_member_cannot_answer_for_another_seat(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    al_task = iisg.task(iisg.board["AL"], "answer_silent_procedure", instance_id)
    with pytest.raises(NotAllowed, match=r"board member \(AL\)"):
        iisg.db.run(
            lambda s: complete_task(
                s,
                al_task.id,
                {"answer": "objection", "reason": "not mine to give"},
                participant=iisg.board["BA"],
                now=iisg.clock.now(),
            )
        )
    assert iisg.decision(instance_id).closed_at is None


def test_the_designated_alternate_answers_for_the_seat_and_the_record_says_who(
    iisg: Iisg,
    make_person: Callable[..., Participant],
) -> None:
    alternate = make_person("alternate-me", Grant("board_member", "ME"))
    instance_id = launch(iisg)
    iisg.complete(alternate, "answer_silent_procedure", instance_id, {"answer": "no_objection"})
    for seat in ("AL", "BA", "XK", "MK", "RS", "EC"):
        iisg.answer(seat, instance_id, "no_objection")
    montenegro = next(a for a in iisg.decision(instance_id).answers if a.seat == "ME")
    assert montenegro.answered_by == "alternate-me"


def test_the_secretariat_extends_the_deadline_once_and_not_twice(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    first_deadline = deadline_of(iisg, instance_id)
    new_deadline = first_deadline + timedelta(days=7)
    iisg.complete(
        iisg.secretariat, "extend_deadline", instance_id, {"new_deadline": new_deadline.isoformat()}
    )

    decision = iisg.decision(instance_id)
    assert decision.deadline == new_deadline and decision.deadline_extended
    assert {t.due_at for t in iisg.tasks_of(iisg.board["AL"], instance_id)} == {new_deadline}
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == []  # once

    iisg.clock.move(days=14, minutes=1)  # the first deadline has passed
    iisg.scheduler_pass()
    assert iisg.decision(instance_id).closed_at is None
    iisg.clock.move(days=7)
    iisg.scheduler_pass()
    assert iisg.decision(instance_id).outcome == "adopted"


def test_an_extension_must_move_the_deadline_later(iisg: Iisg) -> None:
    instance_id = launch(iisg)  # the deadline: Monday 7 December 2026, 09:00 UTC
    earlier = deadline_of(iisg, instance_id) - timedelta(days=1)
    with pytest.raises(Refused) as refused:
        iisg.complete(
            iisg.secretariat, "extend_deadline", instance_id, {"new_deadline": earlier.isoformat()}
        )
    assert refused.value.errors == {
        "new_deadline": "The new deadline must be later than the current one: "
        "after 7 December 2026, 09:00 UTC."
    }
    assert not iisg.decision(instance_id).deadline_extended
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == ["extend_deadline"]


def test_an_extension_to_a_moment_already_past_is_refused(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    past = iisg.clock.now() - timedelta(hours=1)
    with pytest.raises(Refused) as refused:
        iisg.complete(
            iisg.secretariat, "extend_deadline", instance_id, {"new_deadline": past.isoformat()}
        )
    assert refused.value.errors == {
        "new_deadline": "The new deadline must be at least 24 hours from now: "
        "after 24 November 2026, 09:00 UTC."
    }
    assert deadline_of(iisg, instance_id) == iisg.clock.now() + timedelta(days=14)
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == ["extend_deadline"]


def test_a_deadline_that_has_passed_is_refused_and_nothing_starts(iisg: Iisg) -> None:
    with iisg.db.session() as s:
        events_before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Refused) as refused:
        launch(iisg, datetime(2020, 1, 1, 10, tzinfo=UTC))
    assert refused.value.errors == {
        "deadline": "The deadline must be at least 24 hours from now: "
        "after 24 November 2026, 09:00 UTC."
    }
    with iisg.db.session() as s:
        assert s.scalars(select(ProcessInstance)).all() == []
        assert s.scalars(select(Decision)).all() == []
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_a_deadline_sooner_than_the_minimum_notice_is_refused_unless_there_is_none(
    iisg: Iisg,
) -> None:
    in_an_hour = iisg.clock.now() + timedelta(hours=1)
    with pytest.raises(Refused, match="at least 24 hours from now"):
        launch(iisg, in_an_hour)
    with pytest.raises(Refused) as refused:
        launch(iisg, iisg.clock.now(), notice=timedelta(0))
    assert refused.value.errors == {
        "deadline": "The deadline must be in the future: after 23 November 2026, 09:00 UTC."
    }

    instance_id = launch(iisg, in_an_hour, notice=timedelta(0))  # for a demo
    assert deadline_of(iisg, instance_id) == in_an_hour
    assert iisg.decision(instance_id).closed_at is None


def test_an_answer_after_the_deadline_changes_nothing(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    late_task = iisg.task(iisg.board["EC"], "answer_silent_procedure", instance_id)
    iisg.clock.move(days=15)
    iisg.scheduler_pass()
    with pytest.raises(TaskAlreadyDone, match="no longer open"):
        iisg.db.run(
            lambda s: complete_task(
                s,
                late_task.id,
                {"answer": "objection", "reason": "too late"},
                participant=iisg.board["EC"],
                now=iisg.clock.now(),
            )
        )
    decision = iisg.decision(instance_id)
    assert decision.outcome == "adopted"
    assert next(a for a in decision.answers if a.seat == "EC").answer == "silence"
    with iisg.db.session() as s:
        row = s.get(HumanTask, late_task.id)
        assert row is not None and row.status == "withdrawn"


def test_board_seats_are_filled_in_by_the_system_not_typed(iisg: Iisg) -> None:
    with pytest.raises(FormInvalid) as refused:
        iisg.start("silent_procedure", {"subject": "s", "proposal": "p", "board": {"AL": "AL"}})
    assert refused.value.errors == {"board": "is not a field of this form"}


def test_the_deadline_wins_over_an_answer_even_before_the_scheduler_runs(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    iisg.clock.move(days=14, seconds=1)  # past the deadline; no scheduler pass yet
    with pytest.raises(TaskAlreadyDone, match="no longer open"):
        iisg.answer("AL", instance_id, "objection", "Too late, and it must not count.")
    assert iisg.decision(instance_id).closed_at is None  # the refusal changed nothing
    iisg.scheduler_pass()
    decision = iisg.decision(instance_id)
    assert decision.outcome == "adopted"
    assert {a.answer for a in decision.answers} == {"silence"}
