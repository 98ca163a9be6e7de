"""A focal point lists their needs in the browser: rows of fields, one more row on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import start_instance
from models import HumanTask
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    elements,
    field_names,
    main_region,
    snapshot,
    values,
    words,
)
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory

TWO_NEEDS = {
    "needs-0-kind": "legislative",
    "needs-0-perspective": "response",
    "needs-0-sub_pillar": "legal_framework",
    "needs-0-description": "Criminalise the financing of terrorism in line with the acquis.",
    "needs-1-kind": "operational",
    "needs-1-perspective": "prevention",
    "needs-1-sub_pillar": "coordination_cooperation",
    "needs-1-description": "A referral mechanism for persons at risk of radicalisation.",
    "needs-2-kind": "",
    "needs-2-description": "",
    "needs-rows": "3",
    "remarks": "",
}


@dataclass(frozen=True)
class NeedsStep:
    """Albania's 'Identify your needs in this pillar' step for WBCTi, and its page."""

    instance_id: int
    task_id: int

    @property
    def url(self) -> str:
        return f"/tasks/{self.task_id}"

    @property
    def action(self) -> str:
        return f"/tasks/{self.task_id}/complete"


def _identify_needs(session: Session, instance_id: int, partner: str, pillar: str) -> HumanTask:
    return session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == "identify_needs",
            HumanTask.organisation == partner,
            HumanTask.pillar == pillar,
        )
    ).one()


@pytest.fixture
def needs_step(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> NeedsStep:
    """The methodology deployed, a needs mapping opened, and Albania's WBCTi focal point."""
    make_person("fp-al", Grant("focal_point", "AL", "WBCTi"))
    make_person("fp-ba", Grant("focal_point", "BA", "WBCTi"))

    def work(session: Session) -> NeedsStep:
        deploy_directory(session, BPMN_DIR, actor="tests", now=clock.now())
        instance = start_instance(
            session, "needs_mapping", {}, actor="secretariat", now=clock.now()
        )
        session.flush()
        task = _identify_needs(session, instance.id, "AL", "WBCTi")
        return NeedsStep(instance.id, task.id)

    step: NeedsStep = db.run(work)
    return step


def _submitted(db: Database, task_id: int) -> tuple[str, object]:
    with db.session() as session:
        task = session.get_one(HumanTask, task_id)
        return task.status, task.submitted


def test_the_needs_step_offers_three_empty_needs_and_a_button_for_more(
    needs_step: NeedsStep, browser: Callable[..., Browser]
) -> None:
    page = browser("fp-al").text(needs_step.url)
    form = main_region(page)

    assert "Identify your needs in this pillar" in words(form)
    legends = [words(legend) for legend in elements(form, ".//legend")]
    for number in (1, 2, 3):
        assert f"Need {number}" in legends
    assert "Need 4" not in page
    assert "needs-2-description" in field_names(form)
    (label,) = elements(form, './/label[@for="field-needs-0-description"]')
    assert words(label).startswith("The need")
    (add,) = elements(form, './/button[@name="_add_row"]')
    assert add.get("value") == "needs"
    assert add.get("formnovalidate") is not None
    assert values(form, './/input[@name="needs-rows"]/@value') == ["3"]


def test_a_focal_point_identifies_two_needs_in_the_browser(
    db: Database, needs_step: NeedsStep, browser: Callable[..., Browser]
) -> None:
    focal_point = browser("fp-al")

    response = focal_point.submit(needs_step.url, needs_step.action, TWO_NEEDS)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _submitted(db, needs_step.task_id) == (
        "completed",
        {
            "needs": [
                {
                    "kind": "legislative",
                    "perspective": "response",
                    "sub_pillar": "legal_framework",
                    "description": (
                        "Criminalise the financing of terrorism in line with the acquis."
                    ),
                },
                {
                    "kind": "operational",
                    "perspective": "prevention",
                    "sub_pillar": "coordination_cooperation",
                    "description": "A referral mechanism for persons at risk of radicalisation.",
                },
            ]
        },
    )
    done = focal_point.main("/done")
    assert "Need 2: Kind of need: Operational" in done


def test_adding_a_row_shows_the_form_again_with_what_was_entered_and_sends_nothing(
    db: Database, needs_step: NeedsStep, browser: Callable[..., Browser]
) -> None:
    before = snapshot(db, needs_step.instance_id)
    half_written = {**TWO_NEEDS, "needs-1-description": "Radicalisation <b>referral</b>"}

    response = browser("fp-al").submit(
        needs_step.url, needs_step.action, {**half_written, "_add_row": "needs"}
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    form = main_region(page)
    assert "Need 4" in [words(legend) for legend in elements(form, ".//legend")]
    assert "A row was added to Needs. Nothing was submitted yet." in words(form)
    assert values(form, './/input[@name="needs-0-kind"][@checked]/@value') == ["legislative"]
    assert values(form, './/textarea[@name="needs-1-description"]/text()') == [
        "Radicalisation <b>referral</b>"
    ]
    assert "<b>referral</b>" not in page
    assert values(form, './/input[@name="needs-rows"]/@value') == ["4"]
    assert snapshot(db, needs_step.instance_id) == before
    assert _submitted(db, needs_step.task_id) == ("open", None)


def test_a_need_without_its_description_is_refused_next_to_its_row(
    db: Database, needs_step: NeedsStep, browser: Callable[..., Browser]
) -> None:
    before = snapshot(db, needs_step.instance_id)
    # The first row is left empty; the need in the second row lacks its description.
    posted = {
        "needs-0-kind": "",
        "needs-0-description": "",
        "needs-1-kind": "institutional",
        "needs-1-perspective": "prevention",
        "needs-1-description": " ",
        "needs-rows": "3",
    }

    response = browser("fp-al").submit(needs_step.url, needs_step.action, posted)

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    summary = elements(form, './/a[@href="#field-needs-0-description"]')
    assert [words(link) for link in summary] == ["Need 1, The need: this field is required"]
    (error,) = elements(form, './/*[@id="field-needs-0-description-error"]')
    assert "this field is required" in words(error)
    (field,) = elements(form, './/*[@name="needs-0-description"]')
    assert field.get("aria-describedby") == (
        "field-needs-0-description-help field-needs-0-description-error"
    )
    assert field.get("aria-invalid") == "true"
    assert values(form, './/input[@name="needs-0-kind"][@checked]/@value') == ["institutional"]
    assert snapshot(db, needs_step.instance_id) == before


def test_another_partner_cannot_see_the_form_by_adding_a_row(
    db: Database, needs_step: NeedsStep, browser: Callable[..., Browser]
) -> None:
    response = browser("fp-ba").submit(
        "/inbox", needs_step.action, {**TWO_NEEDS, "_add_row": "needs"}
    )

    assert response.status_code == 403
    assert "Need 1" not in response.get_data(as_text=True)
    assert _submitted(db, needs_step.task_id) == ("open", None)
