"""The Secretariat amends the membership procedure in the diagram editor: adds a step on the
main path, sees what it lacks, gives it a form, documentation and a role, saves the draft
and proposes it; the Board adopts it; a membership started afterwards has the new step while
one started before does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import FilePayload, FloatRect, Page, expect
from sqlalchemy import func, select

from engine.instances.assignment import Grant
from models import HumanTask, ProcessDefinition, ProcessInstance
from tests.browser.axe import assert_accessible
from tests.browser.conftest import Iisg, log_in, screenshot
from workflows.methodology.diagrams import BPMN_DIR

NEW_STEP = "Check the applicant's eligibility"
DOCUMENTATION = (
    "Before anything else the Secretariat checks that the applicant is one of the partners "
    "the methodology names, and records what it found."
)
FORM = """{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Eligibility",
  "type": "object",
  "required": ["eligible"],
  "properties": {
    "eligible": {"type": "boolean", "title": "The applicant may apply"}
  }
}
"""
BOARD_SEATS = ("AL", "BA", "XK", "ME", "MK", "RS", "EC")
DRAWN = "#editor.is-drawn"


def application(code: str, applicant: str) -> dict[str, Any]:
    """The start form of an international partner that reached out to the Secretariat."""
    return {
        "how_it_began": "approach",
        "organisation_name": f"{code} Security Forum",
        "organisation_code": code,
        "member_group": "international_partner",
        "partner_type": "international_organisation",
        "applicant_username": applicant,
    }


def shape(page: Page, element_id: str) -> FloatRect:
    """Where the editor's canvas draws an element, on the screen."""
    found = page.locator(f'#editor-canvas [data-element-id="{element_id}"]').first.bounding_box()
    assert found is not None, f"{element_id} is not drawn"
    return found


def open_steps(iisg: Iisg, instance_id: int) -> list[str]:
    with iisg.db.session() as session:
        return list(
            session.scalars(
                select(HumanTask.name).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
        )


def version_count(iisg: Iisg) -> int:
    with iisg.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0)


def version_of(iisg: Iisg, instance_id: int) -> int:
    with iisg.db.session() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row.definition.version


def add_a_task_on_the_first_flow(page: Page) -> str:
    """As a person does it: make room after the start event with the space tool, drop a new
    task from the palette onto the flow (bpmn-js splits the flow), make it a user task with
    the wrench. Returns the new step's id."""
    page.locator("#editor-canvas").scroll_into_view_if_needed()
    start, first = shape(page, "start"), shape(page, "open_the_application")
    page.locator('.djs-palette [data-action="space-tool"]').click()
    x = (start["x"] + start["width"] + first["x"]) / 2
    y = first["y"] + first["height"] + 40
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.move(x + 140, y, steps=10)
    page.mouse.up()
    assert shape(page, "open_the_application")["x"] > first["x"] + 100, "no room was made"

    flow = shape(page, "flow_to_open")
    page.locator('.djs-palette [data-action="create.task"]').click()
    middle_x, middle_y = flow["x"] + flow["width"] / 2, flow["y"] + flow["height"] / 2
    page.mouse.move(middle_x - 20, middle_y, steps=3)
    page.mouse.move(middle_x, middle_y, steps=3)
    page.mouse.click(middle_x, middle_y)

    page.locator('.djs-context-pad [data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    expect(page.locator("#element-kind")).to_contain_text("A user task")
    return page.locator("#element-picker").input_value()


def test_the_secretariat_adds_a_step_the_board_adopts_it_and_new_memberships_take_it(
    page: Page, iisg: Iisg
) -> None:
    iisg.add_person("applicant-early", Grant("applicant"))
    started_before = iisg.start("membership", application("EARLY", "applicant-early"))

    log_in(page, "secretariat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Methodology").click()
    membership = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=re.compile("Becoming an IISG member"))
    )
    membership.get_by_role("link", name="Open in the editor").click()
    page.locator(DRAWN).wait_for()
    summary = page.locator("#problems-summary")
    expect(summary).not_to_have_text(re.compile("Not checked|Checking"))

    step_id = add_a_task_on_the_first_flow(page)
    missing_form = page.get_by_role("button", name=re.compile("this user task has no form"))
    expect(missing_form).to_be_visible()
    expect(summary).to_contain_text("Errors:")
    expect(
        page.locator(f'#editor-canvas [data-element-id="{step_id}"].iisg-problem')
    ).to_be_visible()
    assert_accessible(page)  # the problems listed, a step selected, its context pad open
    # The canvas at the bottom of the window, the problems listed above it.
    page.locator("#editor-canvas").evaluate("e => e.scrollIntoView({block: 'end'})")
    screenshot(page, "editor")

    missing_form.click()  # selects the step and moves to its properties
    expect(page.locator("#element-heading")).to_be_focused()
    page.get_by_label("Name", exact=True).fill(NEW_STEP)
    page.get_by_label("Documentation").fill(DOCUMENTATION)
    page.get_by_label("Role").select_option(label="Secretariat")
    page.get_by_label("What its page shows").select_option(value="application")
    page.get_by_role("button", name="New form for this step").click()
    form_name = "membership_check_the_applicant_s_eligibility.json"
    expect(page.get_by_label("Form", exact=True)).to_have_value(form_name)

    page.get_by_role("tab", name="Forms").click()
    form = page.get_by_label(form_name)
    form.fill('{"type": "object",\n  "properties": {')
    expect(page.get_by_text(re.compile("Not valid JSON at line 2"))).to_be_visible()
    assert_accessible(page)  # the forms tab, a form marked invalid
    form.fill(FORM)
    expect(page.get_by_text(re.compile("Not valid JSON"))).to_have_count(0)
    expect(summary).to_have_text(re.compile("^No (problems found|errors)"))
    expect(page.locator("#editor-canvas .iisg-problem")).to_have_count(0)

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#editor-status")).to_contain_text("Saved as draft version 2")
    proposal = page.get_by_label("What changes and why, in words the Board reads")
    expect(proposal).to_have_value(re.compile(f'New user task: "{NEW_STEP}"'))
    proposal.fill(
        proposal.input_value() + "\nWhy: the Secretariat checks eligibility before it opens "
        "an application."
    )
    page.get_by_role("button", name="Propose to the Board").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("is proposed to the Board")
    amendment = int(page.url.rsplit("/", 1)[1])

    # The Board adopts it by silent procedure: seven seats, no objection.
    iisg.complete("secretariat", amendment, "choose_method", {"method": "silent_procedure"})
    for seat in BOARD_SEATS:
        iisg.complete(
            f"board-{seat.lower()}",
            amendment,
            "answer_silent_procedure",
            {"answer": "no_objection"},
            organisation=seat,
        )

    page.goto("/methodology/membership")
    expect(page.get_by_text("Version 2 is in force")).to_be_visible()
    version_2 = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Version 2"))
    expect(version_2).to_contain_text("in force")

    page.goto("/methodology/membership/compare?from=1&to=2")
    expect(page.get_by_role("heading", name="Steps and lanes")).to_be_visible()
    expect(page.get_by_text(f'New user task: "{NEW_STEP}".')).to_be_visible()
    page.locator("#diagram-old.is-drawn").wait_for()
    page.locator("#diagram-new.is-drawn").wait_for()
    expect(page.locator(f'#diagram-new [data-element-id="{step_id}"].iisg-added')).to_have_count(1)
    page.locator(".side-by-side").evaluate("e => e.scrollIntoView({block: 'end'})")
    screenshot(page, "compare")

    iisg.add_person("applicant-late", Grant("applicant"))
    started_after = iisg.start("membership", application("LATE", "applicant-late"))
    assert version_of(iisg, started_after) == 2
    assert open_steps(iisg, started_after) == [NEW_STEP]
    assert version_of(iisg, started_before) == 1
    assert NEW_STEP not in open_steps(iisg, started_before)

    page.goto(f"/instances/{started_after}")
    expect(page.get_by_role("heading", name="Now").locator("xpath=..")).to_contain_text(NEW_STEP)
    # The step drawn in the editor shows what it was given to show, as any step does.
    page.goto(f"/tasks/{iisg.task_id(started_after, step_id)}")
    expect(page.get_by_role("region", name="The application")).to_contain_text(
        "The applicant has submitted nothing in this procedure yet."
    )
    page.goto(f"/instances/{started_before}")
    expect(page.get_by_text(NEW_STEP)).to_have_count(0)


def test_an_uploaded_diagram_is_checked_and_the_canvas_downloaded(page: Page, iisg: Iisg) -> None:
    hostile = (BPMN_DIR / "membership.bpmn").read_text(encoding="utf-8")
    script = '<bpmn:script>subject = board_matter["subject"]'
    assert script in hostile
    hostile = hostile.replace(script, '<bpmn:script>import os\nsubject = board_matter["subject"]')

    log_in(page, "secretariat")
    page.goto("/methodology/membership/edit")
    page.locator(DRAWN).wait_for()
    # With the keyboard: a step is chosen from the list, not on the canvas.
    page.get_by_label("Step to edit").select_option(
        label="Open the application (open_the_application)"
    )
    expect(page.locator("#element-heading")).to_have_text("Open the application")

    upload: FilePayload = {
        "name": "membership.bpmn",
        "mimeType": "application/xml",
        "buffer": hostile.encode(),
    }
    page.get_by_label("Upload a .bpmn file").set_input_files(files=upload)
    expect(page.locator("#editor-status")).to_contain_text("membership.bpmn is on the canvas now")
    refused = page.get_by_role("button", name=re.compile("imports are not allowed"))
    expect(refused).to_be_visible()
    expect(
        page.locator('#editor-canvas [data-element-id="prepare_the_matter"].iisg-problem')
    ).to_be_visible()
    before = version_count(iisg)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#editor-status")).to_contain_text("Nothing was stored")
    assert version_count(iisg) == before

    with page.expect_download() as download:
        page.get_by_role("button", name="Download .bpmn").click()
    assert download.value.suggested_filename == "membership.bpmn"
    assert "import os" in Path(download.value.path()).read_text(encoding="utf-8")


def test_a_file_from_camunda_modeler_is_imported_as_a_draft_or_refused_in_words(
    page: Page, iisg: Iisg
) -> None:
    ours = (BPMN_DIR / "membership.bpmn").read_text(encoding="utf-8")
    assert 'encoding="UTF-8"' in ours
    latin1 = ours.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    broken: FilePayload = {
        "name": "membership.bpmn20.xml",
        "mimeType": "application/xml",
        "buffer": latin1.replace('name="Secretariat"', 'name="Secrétariat général"').encode(
            "iso-8859-1"
        ),
    }
    good: FilePayload = {
        "name": "membership.bpmn20.xml",
        "mimeType": "application/xml",
        # Edited in the other modeler: a word of the methodology in French.
        "buffer": latin1.replace(
            "IISG Secretariat makes in-house identification",
            "IISG Secretariat (le Secrétariat) makes in-house identification",
        ).encode("iso-8859-1"),
    }
    before = version_count(iisg)

    log_in(page, "secretariat")
    page.goto("/methodology/membership")
    page.get_by_role("link", name="Import a diagram file from another modeler as a draft").click()
    page.get_by_label("Diagram file").set_input_files(files=broken)
    page.get_by_role("button", name="Import as a draft").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "membership.bpmn20.xml was not imported, nothing was stored"
    )
    expect(page.get_by_role("alert")).to_contain_text(
        "the lane 'Secrétariat général' is not a known role"
    )
    assert version_count(iisg) == before

    page.get_by_label("Diagram file").set_input_files(files=good)
    page.get_by_role("button", name="Import as a draft").click()

    expect(page.get_by_role("main")).to_contain_text(
        re.compile(r"membership.bpmn20.xml is saved as draft version \d+ of")
    )
    assert version_count(iisg) == before + 1
