"""The Board decides at a meeting or by silent procedure (PROCEDURES.md, section 2)."""

from __future__ import annotations

import pytest

from engine.errors import Refused
from tests.workflows.conftest import Iisg

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
    iisg.answer("XK", instance_id, "objection", "The budget annex is missing.")
    result = iisg.data(instance_id)["board_result"]
    assert result["outcome"] == "not_adopted"
    assert result["objections"] == [{"seat": "XK", "reason": "The budget annex is missing."}]
    decision = iisg.decision(instance_id)
    assert (decision.method, decision.subject) == ("silent_procedure", MATTER["subject"])


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
