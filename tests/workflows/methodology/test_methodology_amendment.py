"""Amending a methodology: the Board adopts the amended diagram before anyone uses it
(PROCEDURES.md, section 5; Methodology for the Annual Response Mapping Report, 2022, III:
"The IISG Response Mapping Methodology and any modification thereof are to be adopted by the
IISG Board. The proposals for amending the Methodology can come from any IISG partner to
the IISG Secretariat which will send the proposals for modifications for approval to the
IISG Board.")."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.diagrams.deploy import Deployed
from engine.errors import DiagramRejected, EngineError
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, ProcessDefinition, ProcessInstance
from tests.workflows.conftest import Iisg
from workflows.methodology.diagrams import BPMN_DIR, WithoutBoardAdoption, deploy_directory
from workflows.procedures.pages import catalogue, may_start, start_procedure
from workflows.settings import DEFAULT_MIN_NOTICE

PROPOSAL = {
    "process_key": "silent_procedure",
    "proposal_summary": "Ten working days are too short around the holidays.",
}
TEN = 'name="default_deadline_working_days" value="10"'
FIFTEEN = 'name="default_deadline_working_days" value="15"'


def fifteen_day_silent_procedure(tmp_path: Path) -> Path:
    """The amended diagram: the silent procedure's default deadline becomes 15 days."""
    diagram = (BPMN_DIR / "silent_procedure.bpmn").read_text()
    assert TEN in diagram
    folder = tmp_path / "amended"
    folder.mkdir(parents=True)
    (folder / "silent_procedure.bpmn").write_text(diagram.replace(TEN, FIFTEEN))
    for form in BPMN_DIR.glob("silent_procedure_*.json"):
        shutil.copy(form, folder / form.name)
    return folder


def deploy(
    iisg: Iisg,
    folder: Path,
    *,
    status: str = "active",
    bypass: WithoutBoardAdoption | None = None,
) -> list[Deployed]:
    result: list[Deployed] = iisg.db.run(
        lambda s: deploy_directory(
            s,
            folder,
            actor="cli",
            now=iisg.clock.now(),
            status=status,
            without_board_adoption=bypass,
        )
    )
    return result


def draft_fifteen_day_silent_procedure(iisg: Iisg, tmp_path: Path) -> int:
    """The Secretariat's draft, saved with `iisg deploy --draft`."""
    deployed = deploy(iisg, fifteen_day_silent_procedure(tmp_path), status="draft")
    assert [(d.process_key, d.version, d.status) for d in deployed] == [
        ("silent_procedure", 2, "draft")
    ]
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


def propose(iisg: Iisg, person: Participant, data: dict[str, str] = PROPOSAL) -> int:
    """Someone proposes an amendment through the start form, as the web and the API do."""
    instance: ProcessInstance = iisg.db.run(
        lambda s: start_procedure(
            s, person, "methodology_amendment", data, iisg.clock.now(), notice=DEFAULT_MIN_NOTICE
        )
    )
    return int(instance.id)


def test_an_adopted_amendment_is_used_by_new_instances_only(iisg: Iisg, tmp_path: Path) -> None:
    """Response Mapping Methodology 2022, III: a modification adopted by the Board is in force
    for procedures started afterwards; running ones finish on their version."""
    running = launch_silent_procedure(iisg)  # on version 1: ten working days
    draft = draft_fifteen_day_silent_procedure(iisg, tmp_path)
    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "draft"}

    amendment = propose(iisg, iisg.board["RS"])
    iisg.complete(
        iisg.secretariat,
        "draft_amended_diagram",
        amendment,
        {"draft_version": draft, "changes": "The default deadline becomes 15 working days."},
    )
    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "proposed"}
    decide_at_meeting(iisg, amendment, "adopted")
    assert iisg.decision(amendment).text.startswith("Proposed by board-rs (Board member, Serbia).")

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
    """Response Mapping Methodology 2022, III: without the Board's adoption nothing changes;
    the draft goes back to the Secretariat."""
    draft = draft_fifteen_day_silent_procedure(iisg, tmp_path)
    amendment = iisg.start("methodology_amendment", {**PROPOSAL, "proposed_by": "the Secretariat"})
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
    """Response Mapping Methodology 2022, III: the Secretariat sends the proposed
    modification to the Board: a version in force or one that does not exist is no draft."""
    amendment = propose(iisg, iisg.secretariat)
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


# --- deploying: only the Board puts a changed diagram in force --------------------------


def test_a_changed_diagram_deployed_is_kept_as_a_draft_and_the_old_one_stays_in_force(
    iisg: Iisg, tmp_path: Path
) -> None:
    """Response Mapping Methodology 2022, III: "any modification thereof [is] to be adopted
    by the IISG Board": deploying a changed diagram after the first deployment saves it as a
    draft for the amendment procedure; new procedures still start on the version in force."""
    held = deploy(iisg, fifteen_day_silent_procedure(tmp_path))

    assert held == [Deployed("silent_procedure", 2, True, "draft", 1)]
    assert held[0].held
    assert status_of(iisg, "silent_procedure") == {1: "active", 2: "draft"}
    launched = iisg.clock.now()
    assert iisg.decision(launch_silent_procedure(iisg)).deadline == launched + timedelta(days=14)

    # Deploying it again changes nothing; the draft is what the Board is asked to adopt.
    again = deploy(iisg, fifteen_day_silent_procedure(tmp_path / "again"))
    assert again == [Deployed("silent_procedure", 2, False, "draft", 1)]
    amendment = propose(iisg, iisg.secretariat)
    iisg.complete(
        iisg.secretariat,
        "draft_amended_diagram",
        amendment,
        {"draft_version": 2, "changes": "The default deadline becomes 15 working days."},
    )
    decide_at_meeting(iisg, amendment, "adopted")
    assert status_of(iisg, "silent_procedure") == {1: "retired", 2: "active"}
    assert deploy(iisg, fifteen_day_silent_procedure(tmp_path / "adopted")) == [
        Deployed("silent_procedure", 2, False, "active", 2)
    ]


def test_a_first_deployment_and_unchanged_diagrams_need_no_board(iisg: Iisg) -> None:
    """Response Mapping Methodology 2022, III concerns modifications: the methodology's
    first deployment is in force at once (the fixture deployed bpmn/), and deploying the
    same diagrams again changes nothing."""
    assert all(status_of(iisg, key) == {1: "active"} for key in ("membership", "needs_mapping"))
    again = iisg.db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="cli", now=iisg.clock.now()))
    assert {(d.version, d.created, d.status) for d in again} == {(1, False, "active")}


def test_the_board_is_bypassed_only_when_told_and_the_audit_says_who_and_why(
    iisg: Iisg, tmp_path: Path
) -> None:
    """Response Mapping Methodology 2022, III: the Board adopts modifications; an operator
    who must put a changed diagram in force without it (an upgrade that needs it) says so
    explicitly, and the audit trail records who and why."""
    with pytest.raises(DiagramRejected, match="the reason is empty"):
        deploy(
            iisg,
            fifteen_day_silent_procedure(tmp_path),
            bypass=WithoutBoardAdoption(by="root", reason="  "),
        )
    assert status_of(iisg, "silent_procedure") == {1: "active"}

    forced = deploy(
        iisg,
        fifteen_day_silent_procedure(tmp_path / "forced"),
        bypass=WithoutBoardAdoption(by="root", reason="Release 1.4 needs the new diagram."),
    )

    assert forced == [Deployed("silent_procedure", 2, True, "active", 2)]
    assert status_of(iisg, "silent_procedure") == {1: "retired", 2: "active"}
    with iisg.db.session() as s:
        event = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind == "definition.deployed")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.actor == "cli"
        assert event.payload["process"] == "silent_procedure"
        assert event.payload["by"] == "root"
        assert event.payload["without_board_adoption"] == "Release 1.4 needs the new diagram."


# --- proposing an amendment -----------------------------------------------------------


@pytest.fixture
def partners(make_person: Callable[..., Participant]) -> dict[str, Participant]:
    """A focal point, a Support Group member, an observer and an applicant."""
    return {
        "focal_point": make_person("fp-rs-wbbsi", Grant("focal_point", "RS", "WBBSi")),
        "support_group": make_person("sg-wbcti", Grant("support_group", None, "WBCTi")),
        "observer": make_person("observer", Grant("observer")),
        "applicant": make_person("applicant", Grant("applicant")),
    }


def test_focal_points_and_board_members_may_propose_an_amendment(
    iisg: Iisg, partners: dict[str, Participant]
) -> None:
    """Response Mapping Methodology 2022, III: "The proposals for amending the Methodology
    can come from any IISG partner to the IISG Secretariat": a partner's focal point or
    Board member starts the proposal itself (the diagram's start event names their roles);
    an applicant starts only their own membership application."""
    with iisg.db.session() as s:
        allowed = {
            name: {p.key for p in catalogue(s, person) if p.may_start}
            for name, person in {**partners, "board_member": iisg.board["AL"]}.items()
        }
        assert may_start(s, iisg.secretariat, "needs_mapping")
        assert not may_start(s, partners["focal_point"], "no_such_procedure")
    assert allowed == {
        "focal_point": {"methodology_amendment"},
        "board_member": {"methodology_amendment"},
        "support_group": set(),
        "observer": set(),
        "applicant": {"membership"},
    }


def test_a_proposal_reaches_the_secretariat_as_a_task_naming_who_proposed_it(
    iisg: Iisg, partners: dict[str, Participant]
) -> None:
    """Response Mapping Methodology 2022, III: the proposal comes "to the IISG Secretariat
    which will send the proposals for modifications for approval to the IISG Board": the
    Secretariat gets a task to draft it, and the proposer is whoever started it, not a name
    typed in (a name given in the data is replaced)."""
    amendment = propose(
        iisg,
        partners["focal_point"],
        {**PROPOSAL, "proposed_by": "Someone else entirely"},
    )

    assert iisg.tasks_of(partners["focal_point"], amendment) == []
    task = iisg.task(iisg.secretariat, "draft_amended_diagram", amendment)
    assert (
        "Proposed by fp-rs-wbbsi (Focal point, Serbia, WBBSi), for the procedure "
        "silent_procedure: Ten working days are too short around the holidays."
    ) in task.documentation
    with iisg.db.session() as s:
        row = s.get_one(ProcessInstance, amendment)
        assert row.started_by == "fp-rs-wbbsi"
