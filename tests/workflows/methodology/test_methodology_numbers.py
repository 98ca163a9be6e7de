"""The numbers the methodology leaves open, written once in the diagram: the silent
procedure's default deadline and the mappings' default input deadline are properties of the
step that applies them; the forms and step texts that name them read them from there."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from engine.instances.assignment import Participant
from tests.workflows.conftest import Iisg
from workflows.inbox.task_forms import task_form
from workflows.methodology.diagrams import BPMN_DIR, WithoutBoardAdoption, deploy_directory
from workflows.procedures.pages import catalogue, start_page


def amended(iisg: Iisg, tmp_path: Path, process: str, old: str, new: str) -> None:
    """A diagram with one property changed, put in force (the Board's adoption is walked in
    test_methodology_amendment.py; here the operator bypasses it, saying why)."""
    folder = tmp_path / process
    folder.mkdir()
    diagram = (BPMN_DIR / f"{process}.bpmn").read_text()
    assert old in diagram
    (folder / f"{process}.bpmn").write_text(diagram.replace(old, new))
    for form in BPMN_DIR.glob(f"{process}_*.json"):
        shutil.copy(form, folder / form.name)
    bypass = WithoutBoardAdoption(by="tests", reason="the numbers follow their property")
    iisg.db.run(
        lambda s: deploy_directory(
            s, folder, actor="tests", now=iisg.clock.now(), without_board_adoption=bypass
        )
    )


def start_help(iisg: Iisg, process: str, field: str) -> str:
    with iisg.db.session() as s:
        schema = start_page(s, iisg.secretariat, process).schema
    assert schema is not None
    return str(schema["properties"][field]["description"])


def task_help(iisg: Iisg, person: Participant, bpmn_id: str, instance_id: int, field: str) -> str:
    task = iisg.task(person, bpmn_id, instance_id)
    with iisg.db.session() as s:
        schema: dict[str, Any] | None = task_form(s, task)
    assert schema is not None
    return str(schema["properties"][field]["description"])


def description(iisg: Iisg, process: str) -> str:
    with iisg.db.session() as s:
        return next(p.description for p in catalogue(s, iisg.secretariat) if p.key == process)


def test_the_silent_procedure_deadline_is_written_once_and_every_text_names_it(
    iisg: Iisg, tmp_path: Path
) -> None:
    """PROCEDURES.md section 2 (the documents leave the silent procedure's deadline open:
    "default: 10 working days", a setting): the launch form, the Board decision's form and
    step, and the procedure's description all say the number the diagram's property gives,
    and follow it when it changes; a decision already under way keeps its own."""
    under_way = iisg.start("board_decision", {"subject": "s", "proposal": "p"})
    assert start_help(iisg, "silent_procedure", "deadline") == (
        "Leave empty for 10 working days from launch."
    )
    assert task_help(iisg, iisg.secretariat, "choose_method", under_way, "deadline") == (
        "Only for a silent procedure. Leave empty for 10 working days from launch."
    )
    step = iisg.task(iisg.secretariat, "choose_method", under_way)
    assert "leave it empty for the default of 10 working days." in step.documentation
    assert "(by default 10 working days)" in description(iisg, "silent_procedure")

    amended(
        iisg,
        tmp_path,
        "silent_procedure",
        'name="default_deadline_working_days" value="10"',
        'name="default_deadline_working_days" value="15"',
    )

    assert start_help(iisg, "silent_procedure", "deadline") == (
        "Leave empty for 15 working days from launch."
    )
    assert "(by default 15 working days)" in description(iisg, "silent_procedure")
    fresh = iisg.start("board_decision", {"subject": "s", "proposal": "p"})
    assert task_help(iisg, iisg.secretariat, "choose_method", fresh, "deadline") == (
        "Only for a silent procedure. Leave empty for 15 working days from launch."
    )
    assert "the default of 15 working days." in (
        iisg.task(iisg.secretariat, "choose_method", fresh).documentation
    )
    # The decision started before runs with the silent procedure it started with: 10 days.
    assert task_help(iisg, iisg.secretariat, "choose_method", under_way, "deadline") == (
        "Only for a silent procedure. Leave empty for 10 working days from launch."
    )


def test_the_mappings_input_deadline_is_written_once_and_every_text_names_it(
    iisg: Iisg, tmp_path: Path
) -> None:
    """Response Mapping Methodology 2022, I.1 step 1 (the Secretariat "prepares draft
    calendar"; the documents give no default) and PROCEDURES.md section 4 (the needs
    mapping's calendar): the default of 20 working days for the partners' input is the
    diagrams' property, and the calendar and opening forms say what it is."""
    assert start_help(iisg, "needs_mapping", "input_deadline") == (
        "Leave empty for 20 working days from today."
    )
    mapping = iisg.start("response_mapping", {})
    assert task_help(
        iisg, iisg.secretariat, "prepare_draft_calendar", mapping, "input_deadline"
    ) == (
        "When the WB partners deliver their information on responses. Leave empty for 20 "
        "working days from the start of the mapping."
    )

    amended(
        iisg,
        tmp_path,
        "response_mapping",
        'name="input_deadline_working_days" value="20"',
        'name="input_deadline_working_days" value="25"',
    )

    again = iisg.start("response_mapping", {})
    assert task_help(iisg, iisg.secretariat, "prepare_draft_calendar", again, "input_deadline") == (
        "When the WB partners deliver their information on responses. Leave empty for 25 "
        "working days from the start of the mapping."
    )
    assert "the default of 25 working days from the start of the mapping." in (
        iisg.task(iisg.secretariat, "prepare_draft_calendar", again).documentation
    )
    assert start_help(iisg, "needs_mapping", "input_deadline") == (
        "Leave empty for 20 working days from today."
    )
