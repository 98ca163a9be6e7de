"""The Secretariat starts a membership procedure and watches its diagram: the highlight of the
current step moves when a step is completed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot

# bpmn-js puts the instance page's markers on the drawn element's group.
DRAWN = "#diagram.is-drawn"
CURRENT = "#diagram svg [data-element-id].is-current"
DONE = "#diagram svg [data-element-id].is-done"


def marked(page: Page, selector: str) -> set[str]:
    """The BPMN ids of the drawn steps that carry a marker."""
    page.locator(DRAWN).wait_for()
    ids: list[str] = page.locator(selector).evaluate_all(
        "elements => elements.map(e => e.getAttribute('data-element-id'))"
    )
    return set(ids)


def test_the_secretariat_starts_a_membership_and_sees_the_highlight_move(
    page: Page, iisg: Iisg
) -> None:
    log_in(page, "secretariat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Procedures").click()
    membership = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Becoming an IISG member")
    )
    membership.get_by_role("link", name="Start").click()

    page.get_by_label("Official invitation by the IISG Secretariat").check()
    page.get_by_label("Name of the country/Organisation").fill("INTERPOL")
    page.get_by_label("Short code").fill("INTERPOL")
    page.get_by_label("Western Balkans' relevant international partner").check()
    page.get_by_label("International organisation", exact=True).check()
    page.get_by_label("The applicant's user name").fill("applicant")
    page.get_by_role("button", name="Start").click()

    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    instance_url = page.url
    assert marked(page, CURRENT) == {"send_invitation"}
    page.locator("#diagram").scroll_into_view_if_needed()
    screenshot(page, "instance-diagram")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Send the official invitation", exact=True).click()
    page.get_by_label("Invitation sent on").fill("2026-11-23")
    page.get_by_label("Sent to").fill("Office of the Secretary General, INTERPOL")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Send the official invitation")

    page.goto(instance_url)
    assert marked(page, CURRENT) == {"submit_expression_of_interest"}
    assert "send_invitation" in marked(page, DONE)
    page.locator("#diagram").scroll_into_view_if_needed()
    screenshot(page, "instance-diagram-moved")
