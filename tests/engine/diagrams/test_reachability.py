"""Every step of a diagram can be reached from a start event, and from every step an end event
can be reached: checked from the drawing alone, before anything runs."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from engine.diagrams.reachability import reachability_problems
from tests.conftest import TEST_BPMN

EDITOR_DIAGRAMS = TEST_BPMN / "editor"
BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"


def problems_of(path: Path) -> dict[str | None, str]:
    found = reachability_problems(etree.parse(str(path)), path.name)
    return {p.element_id: p.message for p in found}


def test_a_step_nothing_leads_to_and_a_step_leading_nowhere_are_named() -> None:
    problems = problems_of(EDITOR_DIAGRAMS / "stray_steps.bpmn")

    assert sorted(problems, key=str) == ["dead_end", "forgotten"]
    assert "no path leads to this step from a start event" in problems["forgotten"]
    assert "no path leads from this step to an end event" in problems["dead_end"]


def test_each_problem_names_the_file_and_line_and_is_of_its_kind() -> None:
    path = EDITOR_DIAGRAMS / "stray_steps.bpmn"
    for problem in reachability_problems(etree.parse(str(path)), path.name):
        assert problem.file == "stray_steps.bpmn"
        assert problem.line is not None
        assert problem.kind == "reachability"


def test_every_methodology_and_test_diagram_can_be_walked_from_start_to_end() -> None:
    # Boundary events count from their host; a subprocess left only by its interrupting
    # boundary events (the silent procedure's answers) still finishes.
    for path in [*sorted(BPMN_DIR.glob("*.bpmn")), *sorted(TEST_BPMN.glob("*.bpmn"))]:
        assert problems_of(path) == {}, path.name
