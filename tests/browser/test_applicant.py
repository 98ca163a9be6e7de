"""An applicant applies for IISG membership and follows the application on "My applications"."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot
from tests.workflows.board.test_membership import expression_of_interest

OSCE = "Organization for Security and Co-operation in Europe"


def test_an_applicant_goes_from_starting_an_application_to_its_state_and_next_step(
    page: Page, iisg: Iisg
) -> None:
    log_in(page, "applicant")
    # Nothing waits for them yet: the empty inbox offers the application as a first step.
    page.get_by_role("link", name="Start: Becoming an IISG member").click()
    page.get_by_label("Name of the country/Organisation").fill(OSCE)
    page.get_by_label("Short code").fill("OSCE")
    page.get_by_label("Western Balkans' relevant international partner").check()
    page.get_by_label("International organisation", exact=True).check()
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My applications").click()
    application = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=OSCE))
    expect(application).to_contain_text("Waiting for your expression of interest")
    expect(application).to_contain_text("You: Fill in and sign the expression of interest.")
    screenshot(page, "my-applications")
    application.get_by_role("link", name="Fill in and sign the expression of interest.").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Express interest in IISG membership"
    )

    iisg.complete(
        "applicant", instance_id, "submit_expression_of_interest", expression_of_interest(OSCE)
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="See your applications").click()
    expect(application).to_contain_text("Expression of interest received")
    expect(application).to_contain_text(
        "The IISG Secretariat: The Secretariat assesses your application against the criteria"
    )
    application.get_by_role("link", name="Every step of this application").click()
    expect(page).to_have_url(re.compile(rf"/instances/{instance_id}$"))
