"""A WB partner's focal point delivers the response-mapping input for their pillar, with an
attachment, through the task page, picking each need from the list of their own."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import select

from models import Document, HumanTask, Need, Response
from tests.browser.axe import assert_accessible
from tests.browser.conftest import Iisg, log_in, screenshot
from workflows.mappings.response_mapping import start_demo_response_mapping

TASK = "Deliver the information on responses to your mapped needs"
ATTACHMENT: FilePayload = {
    "name": "Serbia WBCSCi responses 2026.pdf",
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
}
RESPONSE = "Financial investigation unit staffed; joint training with the prosecution service."


def test_a_focal_point_delivers_the_response_mapping_input_with_an_attachment(
    page: Page, iisg: Iisg
) -> None:
    # The annual response mapping has reached phase 2: the partners are asked for input.
    iisg.db.run(lambda s: start_demo_response_mapping(s, now=datetime.now(UTC)))
    with iisg.db.session() as session:
        need_id = session.scalars(
            select(Need.id).where(Need.partner == "RS", Need.pillar == "WBCSCi")
        ).first()
    assert need_id is not None, "the demo maps a need of Serbia in WBCSCi"

    log_in(page, "fp-rs-wbcsci")
    page.get_by_role("link", name=TASK, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TASK)
    task_url = page.url

    page.get_by_label("Add a document").set_input_files(ATTACHMENT)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text(f"Uploaded: {ATTACHMENT['name']}.")
    expect(page.get_by_role("link", name=ATTACHMENT["name"])).to_be_visible()
    page.get_by_role("heading", name="Documents of this procedure").scroll_into_view_if_needed()
    screenshot(page, "response-mapping-attachment")

    page.get_by_label("State of play").fill("Two of our three mapped needs are being addressed.")
    entry = page.get_by_role("group", name="Entry 1")
    # The need is picked from the list of Serbia's open needs in the pillar, nobody else's.
    need = entry.get_by_label("Need")
    expect(need.locator("option")).to_have_text(
        ["Choose…", f"Need {need_id}: Set up a national asset recovery office."]
    )
    need.select_option(label=f"Need {need_id}: Set up a national asset recovery office.")
    assert_accessible(page)
    entry.get_by_label("Response").fill(RESPONSE)
    entry.get_by_label("Provided in the past year").check()
    entry.get_by_label("Ongoing").check()
    entry.get_by_label("Project support or funding").fill("EU IPA regional project")
    page.get_by_role("heading", name="Your answer").scroll_into_view_if_needed()
    screenshot(page, "response-mapping-input")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("status")).to_contain_text(f"Done: {TASK}.")
    with iisg.db.session() as session:
        task = session.scalars(
            select(HumanTask).where(
                HumanTask.bpmn_id == "deliver_information",
                HumanTask.organisation == "RS",
                HumanTask.pillar == "WBCSCi",
            )
        ).one()
        assert (task.status, task.completed_by) == ("completed", "fp-rs-wbcsci")
        document = session.scalars(select(Document)).one()
        recorded = session.scalars(select(Response.need_id).where(Response.provider == "RS"))
        assert list(recorded) == [need_id]
        assert (document.filename, document.instance_id) == (ATTACHMENT["name"], task.instance_id)
    assert task_url.endswith(f"/tasks/{task.id}")
