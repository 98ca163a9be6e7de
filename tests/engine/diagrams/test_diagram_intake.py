"""Diagrams are untrusted input: hostile XML is refused whole, and every rule names its element."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.diagrams.bundle import check_bundle, read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.errors import DiagramRejected, Problem
from models import AuditEvent, ProcessDefinition
from tests.conftest import TEST_BPMN, Clock, Database
from workflows.people.roles import known_roles

HOSTILE = TEST_BPMN / "hostile"
LINT_MISTAKES = Path(__file__).parent / "lint_mistakes"
LANE_TASK = (TEST_BPMN / "lane_task.bpmn").read_text(encoding="utf-8")


def form_files() -> dict[str, str]:
    """The test diagrams' form schemas, by file name."""
    return {path.name: path.read_text(encoding="utf-8") for path in TEST_BPMN.glob("*.json")}


def deploy_files(db: Database, clock: Clock, files: dict[str, str]) -> None:
    """Check and deploy files in one unit of work, as an upload does."""
    db.run(
        lambda s: deploy_bundle(
            s, require_bundle(files, known_roles()), actor="tests", now=clock.now()
        )
    )


def nothing_deployed(db: Database) -> bool:
    """No version and no audit event was written."""
    with db.session() as session:
        definitions = session.scalar(select(func.count()).select_from(ProcessDefinition))
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    return definitions == 0 and events == 0


def refused(files: Mapping[str, str | bytes]) -> list[Problem]:
    """The problems of files that must not pass."""
    bundle, problems = check_bundle(files, known_roles())
    assert bundle is None
    assert problems
    return problems


@pytest.mark.parametrize("name", ["billion_laughs.bpmn", "external_entity.bpmn"])
def test_diagram_with_a_doctype_or_entity_is_refused_and_nothing_is_deployed(
    name: str, db: Database, clock: Clock
) -> None:
    files = {name: (HOSTILE / name).read_text(encoding="utf-8")}

    assert refused(files) == [
        Problem(
            name,
            None,
            "the file declares a DOCTYPE or an ENTITY; diagrams may not contain document "
            "type declarations or entities, remove them and upload again",
        )
    ]
    with pytest.raises(DiagramRejected, match="DOCTYPE or an ENTITY") as rejected:
        deploy_files(db, clock, {**files, "lane_task.bpmn": LANE_TASK, **form_files()})
    assert "root:" not in str(rejected.value)  # /etc/passwd was never read into a message
    assert nothing_deployed(db)


def test_diagram_larger_than_two_megabytes_is_refused(db: Database, clock: Clock) -> None:
    padding = "The Board decides by consensus. " * 70_000  # about 2.2 MB of documentation
    oversize = LANE_TASK.replace(
        "The Secretariat reviews the proposal before the Board sees it.", padding
    )
    assert len(oversize.encode("utf-8")) > 2 * 1024 * 1024

    [problem] = refused({"lane_task.bpmn": oversize, **form_files()})

    assert problem.file == "lane_task.bpmn"
    assert "a diagram may be at most 2 MB" in problem.message
    with pytest.raises(DiagramRejected):
        deploy_files(db, clock, {"lane_task.bpmn": oversize, **form_files()})
    assert nothing_deployed(db)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect /></svg>', "is not a BPMN 2.0 diagram"),
        ("<definitions><process id='p' /></definitions>", "is not a BPMN 2.0 diagram"),
        ("<bpmn:definitions xmlns:bpmn='x'>", "is not well-formed XML"),
        ("a diagram, honestly", "is not XML: it does not begin with an element"),
    ],
    ids=["svg", "no_namespace", "unclosed", "not_xml"],
)
def test_xml_that_is_not_a_bpmn_diagram_is_refused(
    content: str, words: str, db: Database, clock: Clock
) -> None:
    [problem] = refused({"upload.bpmn": content})

    assert problem.file == "upload.bpmn"
    assert words in problem.message
    with pytest.raises(DiagramRejected):
        deploy_files(db, clock, {"upload.bpmn": content})
    assert nothing_deployed(db)


LINT_PROBLEMS = {
    "in_unknown_lane": "the lane 'Press office' is not a known role; known roles are: applicant,",
    "without_role": "this user task is in no lane and has no 'role' property",
    "call_nowhere": "calls the process 'no_such_process', which no deployed or given diagram",
    "missing_form": "names the form 'nowhere.json', but there is no such file beside the diagram",
    "form_not_json": "the form 'not_json.json' is not valid JSON (line 3:",
    "form_not_a_schema": "the form 'not_a_schema.json' is not a valid JSON Schema:",
    "choices_from_nowhere": "the form 'choices_from_nowhere.json' takes the choices of its field "
    "'entries/seat' from \"seatz\", which is not a source of choices; the sources are: items, "
    "open_needs, pillar_needs",
    "not_iso_timer": "the timer value 'next Tuesday' is not an ISO 8601 duration or cycle",
    "not_iso_date": "the timer value '30/11/2026 17:00' is not an ISO 8601 date",
    "nearly_iso_timer": "the timer value 'PT1X' looks like an ISO 8601 duration or cycle but is "
    "not one",
    "start": "startedBy names 'press_officer', which is not a known role; known roles are: ",
    "shows_unknown": "the step 'Read the minutes' shows 'minutes', which no task page knows; "
    "the property shows is one of: proposal, application, list, mapped_needs, drafts",
}


@pytest.fixture(scope="module")
def lint_problems() -> dict[str | None, list[Problem]]:
    """The problems of a diagram with one mistake per element, by element id."""
    found: dict[str | None, list[Problem]] = {}
    for problem in refused(read_directory(LINT_MISTAKES)):
        found.setdefault(problem.element_id, []).append(problem)
    return found


def test_lint_reports_every_mistake_and_nothing_else(
    lint_problems: dict[str | None, list[Problem]],
) -> None:
    assert sorted(lint_problems, key=str) == sorted(LINT_PROBLEMS)


@pytest.mark.parametrize(("element_id", "words"), LINT_PROBLEMS.items(), ids=LINT_PROBLEMS)
def test_lint_names_the_element_and_says_why_in_plain_words(
    element_id: str, words: str, lint_problems: dict[str | None, list[Problem]]
) -> None:
    [problem] = lint_problems[element_id]

    assert problem.file == "lint_mistakes.bpmn"
    assert words in problem.message
    assert problem.line is not None
    name = f" '{problem.element_name}'" if problem.element_name else ""
    assert str(problem).startswith(f"lint_mistakes.bpmn:{problem.line} [{element_id}{name}]: ")


NEEDS_MAPPING = Path(__file__).resolve().parents[3] / "bpmn" / "needs_mapping.bpmn"


def needs_mapping_problems(xml: str) -> list[Problem]:
    """The problems of the needs mapping as given, its calls resolved by the methodology."""
    library = read_directory(NEEDS_MAPPING.parent)
    library.pop(NEEDS_MAPPING.name)
    _, problems = check_bundle({NEEDS_MAPPING.name: xml}, known_roles(), library)
    return problems


def id_clashes(problems: list[Problem]) -> list[str | None]:
    return [p.element_id for p in problems if "is used more than once" in p.message]


def test_a_declared_collection_may_share_its_name_with_a_service_parameter() -> None:
    # The partners' inputs are collected by the multi-instance step and passed to the
    # service that compiles the report, both under the variable's name.
    xml = NEEDS_MAPPING.read_text(encoding="utf-8")
    assert '<bpmn:property id="partner_inputs" name="partner_inputs" />' in xml
    assert '<spiffworkflow:parameter id="partner_inputs"' in xml

    assert needs_mapping_problems(xml) == []


def test_a_step_or_a_declaration_sharing_an_id_is_refused() -> None:
    xml = NEEDS_MAPPING.read_text(encoding="utf-8")
    step_as_parameter = xml.replace(
        '<spiffworkflow:parameter id="partner_inputs"',
        '<spiffworkflow:parameter id="compile_needs_report"',
    )
    declared_twice = xml.replace(
        '<bpmn:property id="support_pillars" name="support_pillars" />',
        '<bpmn:property id="partner_pillars" name="support_pillars" />',
    )

    assert id_clashes(needs_mapping_problems(step_as_parameter)) == ["compile_needs_report"]
    # Two BPMN elements with one id: the schema refuses the second, on its line, and the
    # id check names both lines.
    second = xml.splitlines().index(
        '    <bpmn:property id="support_pillars" name="support_pillars" />'
    )
    problems = needs_mapping_problems(declared_twice)
    assert [p.line for p in problems if "'partner_pillars'" in p.message and p.kind == "xsd"] == [
        second + 1
    ]
    assert id_clashes(problems) == ["partner_pillars"]
