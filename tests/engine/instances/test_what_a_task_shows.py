"""Each step says what its page shows (the `shows` property): the inbox row keeps it, and a
diagram naming something no page shows is refused, naming the step."""

from __future__ import annotations

from sqlalchemy import select

from engine.diagrams.bpmn import SHOWS
from engine.diagrams.bundle import check_bundle, read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.steps import start_instance
from models import HumanTask
from tests.conftest import TEST_BPMN, Clock, Database
from workflows.methodology.diagrams import BPMN_DIR
from workflows.people.roles import known_roles

REVIEW_FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="review.json" />'


def lane_task_showing(shows: str) -> dict[str, str | bytes]:
    """The test diagram 'Review then acknowledge', its review step drawn showing `shows`."""
    read = read_directory(TEST_BPMN)
    diagram = read["lane_task.bpmn"].decode()
    files: dict[str, str | bytes] = dict(read)
    assert REVIEW_FORM in diagram
    files["lane_task.bpmn"] = diagram.replace(
        REVIEW_FORM, f'<spiffworkflow:property name="shows" value="{shows}" />{REVIEW_FORM}'
    )
    return files


def test_a_step_drawn_with_shows_opens_an_inbox_row_that_keeps_it(
    db: Database, clock: Clock
) -> None:
    bundle = require_bundle(lane_task_showing("proposal"), known_roles())
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))

    instance_id = db.run(
        lambda s: start_instance(s, "lane_task", {}, actor="secretariat", now=clock.now()).id
    )

    with db.session() as session:
        review = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "review"
            )
        ).one()
    assert review.shows == "proposal"


def test_a_step_without_shows_shows_no_matter(
    db: Database, clock: Clock, test_diagrams: None
) -> None:
    instance_id = db.run(
        lambda s: start_instance(s, "lane_task", {}, actor="secretariat", now=clock.now()).id
    )

    with db.session() as session:
        review = session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id)
        ).one()
    assert review.shows is None


def test_a_step_showing_something_no_page_shows_is_refused_naming_the_step() -> None:
    bundle, problems = check_bundle(lane_task_showing("the minutes"), known_roles())

    assert bundle is None
    assert [(p.element_id, p.message) for p in problems] == [
        (
            "review",
            "the step 'Review the proposal' shows 'the minutes', which no task page knows; "
            "the property shows is one of: proposal, application, list, mapped_needs, drafts, "
            "calendar, structure, calendar_answers, structure_answers",
        )
    ]


def test_every_step_of_the_methodology_that_shows_a_matter_names_a_known_one() -> None:
    bundle, problems = check_bundle(read_directory(BPMN_DIR), known_roles())

    assert problems == []
    assert bundle is not None
    shown = {
        shows
        for name, text in read_directory(BPMN_DIR).items()
        if name.endswith(".bpmn")
        for shows in SHOWS
        if f'name="shows" value="{shows}"' in text.decode()
    }
    assert shown == set(SHOWS)
