"""Amending a methodology: the Board adopts the amended diagram before anyone uses it
(PROCEDURES.md, section 5)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import EngineError
from models import ProcessDefinition, ProcessInstance
from tests.workflows.conftest import Iisg
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory

PROPOSAL = {
    "process_key": "silent_procedure",
    "proposed_by": "Serbia",
    "proposal_summary": "Ten working days are too short around the holidays.",
}


def draft_fifteen_day_silent_procedure(iisg: Iisg, tmp_path: Path) -> int:
    """The Secretariat's draft: the silent procedure's default deadline becomes 15 days."""
    diagram = (BPMN_DIR / "silent_procedure.bpmn").read_text()
    assert "default_deadline_working_days = 10" in diagram
    (tmp_path / "silent_procedure.bpmn").write_text(
        diagram.replace("default_deadline_working_days = 10", "default_deadline_working_days = 15")
    )
    for form in BPMN_DIR.glob("silent_procedure_*.json"):
        shutil.copy(form, tmp_path / form.name)
    deployed = iisg.db.run(
        lambda s: deploy_directory(
            s, tmp_path, actor="secretariat", now=iisg.clock.now(), status="draft"
        )
    )
    assert [(d.process_key, d.version) for d in deployed] == [("silent_procedure", 2)]
    return 2


def status_of(iisg: Iisg, process_key: str) -> dict[int, str]:
    with iisg.db.session() as s:
        rows = s.scalars(
            select(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
        )
        return {row.version: row.status for row in rows}


def decide_at_meeting(iisg: Iisg, instance_id: int, outcome: str) -> None:
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": outcome, "meeting_date": "2026-11-27", "minutes": "Discussed."},
    )


def launch_silent_procedure(iisg: Iisg) -> int:
    return iisg.start("silent_procedure", {"subject": "s", "proposal": "p"})


def test_an_adopted_amendment_is_used_by_new_instances_only(iisg: Iisg, tmp_path: Path) -> None:
    running = launch_silent_procedure(iisg)  # on version 1: ten working days
    draft = draft_fifteen_day_silent_procedure(iisg, tmp_path)
    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "draft"}

    amendment = iisg.start("methodology_amendment", PROPOSAL)
    iisg.complete(
        iisg.secretariat,
        "draft_amended_diagram",
        amendment,
        {"draft_version": draft, "changes": "The default deadline becomes 15 working days."},
    )
    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "proposed"}
    decide_at_meeting(iisg, amendment, "adopted")
    assert iisg.decision(amendment).text.startswith("Proposed by Serbia.")

    assert status_of(iisg, "silent_procedure") == {1: "retired", 2: "active"}
    with iisg.db.session() as s:
        adopted = s.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == "silent_procedure", ProcessDefinition.version == 2
            )
        ).one()
        assert adopted.adopted_by_decision_id == iisg.decision(amendment).id

    launched = iisg.clock.now()
    fresh = launch_silent_procedure(iisg)
    assert iisg.decision(fresh).deadline == launched + timedelta(days=21)  # 15 working days
    assert iisg.decision(running).deadline == launched + timedelta(days=14)  # still 10

    # Procedures that call it use the adopted version too, from now on.
    via_board = iisg.start("board_decision", {"subject": "s", "proposal": "p"})
    iisg.complete(iisg.secretariat, "choose_method", via_board, {"method": "silent_procedure"})
    assert iisg.decision(via_board).deadline == launched + timedelta(days=21)

    # The running instance finishes on its own version.
    for seat in ("AL", "BA", "XK", "ME", "MK", "RS", "EC"):
        iisg.answer(seat, running, "no_objection")
    assert iisg.decision(running).outcome == "adopted"
    with iisg.db.session() as s:
        row = s.get(ProcessInstance, running)
        assert row is not None and row.definition.version == 1


def test_an_amendment_the_board_does_not_adopt_goes_back_to_the_draft(
    iisg: Iisg, tmp_path: Path
) -> None:
    draft = draft_fifteen_day_silent_procedure(iisg, tmp_path)
    amendment = iisg.start("methodology_amendment", PROPOSAL)
    iisg.complete(
        iisg.secretariat,
        "draft_amended_diagram",
        amendment,
        {"draft_version": draft, "changes": "The default deadline becomes 15 working days."},
    )
    decide_at_meeting(iisg, amendment, "not_adopted")

    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "draft"}
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, amendment)] == [
        "draft_amended_diagram"
    ]
    launched = iisg.clock.now()
    assert iisg.decision(launch_silent_procedure(iisg)).deadline == launched + timedelta(days=14)


def test_only_a_draft_can_be_proposed(iisg: Iisg) -> None:
    amendment = iisg.start("methodology_amendment", PROPOSAL)
    with pytest.raises(EngineError, match="version 1 of 'silent_procedure' is active"):
        iisg.complete(
            iisg.secretariat,
            "draft_amended_diagram",
            amendment,
            {"draft_version": 1, "changes": "none"},
        )
    with pytest.raises(EngineError, match="there is no version 7"):
        iisg.complete(
            iisg.secretariat,
            "draft_amended_diagram",
            amendment,
            {"draft_version": 7, "changes": "none"},
        )
    assert status_of(iisg, "silent_procedure") == {1: "active"}
