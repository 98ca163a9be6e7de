"""The Board decides at a meeting or by silent procedure (PROCEDURES.md, section 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, Refused
from models import AuditEvent, Decision, HumanTask, ProcessInstance
from tests.workflows.conftest import Iisg
from workflows.demo import DEMO_BROKEN_SILENCE_KEY, load_demo, start_demo_procedures
from workflows.methodology.diagrams import BPMN_DIR, WithoutBoardAdoption, deploy_directory

# The previous release's `board_decision` and `silent_procedure`, with their forms.
PREVIOUS = Path(__file__).parents[2] / "bpmn" / "previous_board_decision"

MATTER = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}


def test_at_a_meeting_the_secretariat_records_the_outcome_and_the_minutes(iisg: Iisg) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {
            "outcome": "adopted",
            "meeting_date": "2026-11-20",
            "minutes": "Adopted by consensus after a short discussion.",
        },
    )
    decision = iisg.decision(instance_id)
    assert (decision.method, decision.outcome, decision.recorded_by) == (
        "meeting",
        "adopted",
        "secretariat",
    )
    assert decision.minutes == "Adopted by consensus after a short discussion."
    assert iisg.data(instance_id)["board_result"]["outcome"] == "adopted"
    assert [t for t in iisg.tasks_of(iisg.board["AL"], instance_id)] == []


def test_by_silent_procedure_the_board_answers_and_the_outcome_comes_back(iisg: Iisg) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.board["XK"], instance_id)] == [
        "answer_silent_procedure"
    ]
    for seat in iisg.board:
        iisg.answer(seat, instance_id, "no_objection")
    result = iisg.data(instance_id)["board_result"]
    assert (result["outcome"], result["objections"]) == ("adopted", [])
    decision = iisg.decision(instance_id)
    assert (decision.method, decision.subject) == ("silent_procedure", MATTER["subject"])
    assert (decision.outcome, decision.final_outcome) == ("adopted", "adopted")
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []


def object_to(iisg: Iisg, instance_id: int) -> None:
    """The silent procedure: Albania agrees, then Kosovo* objects, the others not yet heard."""
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("AL", instance_id, "no_objection")
    iisg.answer("XK", instance_id, "objection", "The budget annex is missing.")


def test_an_objection_sends_the_matter_to_the_next_board_meeting(iisg: Iisg) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    object_to(iisg, instance_id)

    # The silence is broken and nothing is decided: the Secretariat takes it to the meeting.
    assert "board_result" not in iisg.data(instance_id)
    broken = iisg.decision(instance_id)
    assert (broken.outcome, broken.final_outcome) == ("silence_broken", None)
    assert broken.on_next_meeting_agenda
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "put_on_meeting_agenda"
    ]
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "meeting"})
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "record_meeting_outcome"
    ]
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {
            "outcome": "adopted",
            "meeting_date": "2026-12-10",
            "minutes": "Adopted by consensus with the budget annex circulated at the meeting.",
        },
    )

    meeting = iisg.decision(instance_id)
    assert (meeting.method, meeting.outcome, meeting.final_outcome) == (
        "meeting",
        "adopted",
        "adopted",
    )
    result = iisg.data(instance_id)["board_result"]
    assert (result["decision_id"], result["outcome"]) == (meeting.id, "adopted")
    with iisg.db.session() as s:
        silent = s.get_one(Decision, broken.id)
        assert silent.followed_by_id == meeting.id
        assert (silent.outcome, silent.final_outcome) == ("silence_broken", "adopted")
        assert not silent.on_next_meeting_agenda
        assert s.get_one(ProcessInstance, instance_id).status == "completed"
        decided = s.scalars(select(AuditEvent).where(AuditEvent.kind == "board.decided")).all()
        assert [(e.payload["decision_id"], e.payload["final_outcome"]) for e in decided] == [
            (meeting.id, "adopted")
        ]


def test_the_secretariat_may_withdraw_the_matter_instead_of_taking_it_to_the_meeting(
    iisg: Iisg,
) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    object_to(iisg, instance_id)
    with pytest.raises(FormInvalid):
        iisg.complete(
            iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "withdraw"}
        )
    iisg.complete(
        iisg.secretariat,
        "put_on_meeting_agenda",
        instance_id,
        {"next_step": "withdraw", "withdrawal_reason": "Re-drafted with the budget annex."},
    )
    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.final_outcome) == ("silence_broken", "withdrawn")
    assert decision.withdrawal_reason == "Re-drafted with the budget annex."
    assert not decision.on_next_meeting_agenda
    assert iisg.data(instance_id)["board_result"] == {
        "decision_id": decision.id,
        "outcome": "withdrawn",
        "objections": [{"seat": "XK", "reason": "The budget annex is missing."}],
        "items": {},
    }
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []


def test_a_board_decision_started_on_the_previous_diagram_ends_there_as_it_did(
    iisg: Iisg,
) -> None:
    # Started while the previous release's diagrams were in force, upgraded half-way: each
    # release's diagrams put in force by the operator, who says why.
    def in_force(folder: Path, why: str) -> None:
        bypass = WithoutBoardAdoption(by="operator", reason=why)
        iisg.db.run(
            lambda s: deploy_directory(
                s, folder, actor="cli", now=iisg.clock.now(), without_board_adoption=bypass
            )
        )

    in_force(PREVIOUS, "the previous release's diagrams")
    instance_id = iisg.start("board_decision", MATTER)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    in_force(BPMN_DIR, "the release's diagrams")

    iisg.answer("XK", instance_id, "objection", "The budget annex is missing.")
    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.final_outcome) == ("not_adopted", "not_adopted")
    assert iisg.data(instance_id)["board_result"]["outcome"] == "not_adopted"
    assert {a.answer for a in decision.answers if a.seat != "XK"} == {"no_answer"}
    with iisg.db.session() as s:
        assert s.get_one(ProcessInstance, instance_id).status == "completed"
    # A procedure started now runs on the new diagram.
    again = iisg.start("board_decision", MATTER)
    object_to(iisg, again)
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, again)] == ["put_on_meeting_agenda"]


def test_a_silent_procedure_deadline_chosen_by_the_secretariat_is_kept(iisg: Iisg) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    deadline = "2026-12-04T17:00:00+01:00"
    iisg.complete(
        iisg.secretariat,
        "choose_method",
        instance_id,
        {"method": "silent_procedure", "deadline": deadline},
    )
    decision = iisg.decision(instance_id)
    assert decision.deadline is not None and decision.deadline.isoformat() == (
        "2026-12-04T16:00:00+00:00"
    )


def test_a_silent_procedure_deadline_that_has_passed_is_refused_at_the_choice(iisg: Iisg) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    with pytest.raises(Refused) as refused:
        iisg.complete(
            iisg.secretariat,
            "choose_method",
            instance_id,
            {"method": "silent_procedure", "deadline": "2020-01-01T10:00:00+00:00"},
        )
    assert refused.value.errors == {
        "deadline": "The deadline of the silent procedure must be at least 24 hours from now: "
        "after 24 November 2026, 09:00 UTC."
    }
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == ["choose_method"]
    assert iisg.tasks_of(iisg.board["XK"], instance_id) == []


def test_the_demo_has_a_broken_silent_procedure_waiting_for_the_meeting(iisg: Iisg) -> None:
    now = iisg.clock.now()
    iisg.db.run(lambda s: load_demo(s, "demo-password", now=now))
    iisg.db.run(lambda s: start_demo_procedures(s, now=now))
    with iisg.db.session() as s:
        instance = s.scalars(
            select(ProcessInstance).where(ProcessInstance.business_key == DEMO_BROKEN_SILENCE_KEY)
        ).one()
        waiting = s.scalars(
            select(HumanTask.bpmn_id).where(
                HumanTask.instance_id == instance.id, HumanTask.status == "open"
            )
        ).all()
    assert waiting == ["put_on_meeting_agenda"]
    decision = iisg.decision(instance.id)
    assert (decision.outcome, decision.final_outcome) == ("silence_broken", None)
    assert {a.seat: a.answer for a in decision.answers}["ME"] == "objection"
