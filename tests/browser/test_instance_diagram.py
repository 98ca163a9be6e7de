"""The Secretariat starts a membership procedure and watches its diagram: the highlight of the
current step moves when a step is completed."""

from __future__ import annotations

import re

import pytest
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


def scale(page: Page) -> float:
    """The diagram's zoom, as the page last set it."""
    return float(page.locator(DRAWN).get_attribute("data-scale") or "0")


def test_a_running_silent_procedure_highlights_board_members_answer_and_zooms(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start(
        "silent_procedure",
        {"subject": "IISG work programme 2027", "proposal": "The Board adopts it."},
    )
    log_in(page, "secretariat")
    page.goto(f"/instances/{instance_id}")

    # The seats' answers run inside "Board members answer", drawn collapsed: it is current.
    assert marked(page, CURRENT) == {"board_answers", "deadline_passed"}
    now = page.get_by_role("heading", name="Now").locator("xpath=..")
    expect(now.get_by_role("listitem").filter(has_text="Board members answer")).to_have_count(1)
    # It opens at a size where the labels can be read.
    opened = scale(page)
    assert opened >= 1

    view = page.get_by_role("group", name="Diagram view")
    view.get_by_role("button", name="Zoom in").click()
    assert scale(page) > opened
    view.get_by_role("button", name="Fit the whole diagram").click()
    fitted = scale(page)
    view.get_by_role("button", name="Zoom out").click()
    assert scale(page) < fitted
    # The keyboard does the same on the focused diagram.
    page.locator("#diagram").focus()
    page.keyboard.press("+")
    assert scale(page) == pytest.approx(fitted, abs=0.01)
    page.keyboard.press("1")
    assert scale(page) == pytest.approx(opened, abs=0.01)

    # Each open task is a link to its page.
    open_tasks = page.get_by_role("region", name="Open tasks")
    open_tasks.get_by_role("link", name="Extend the deadline (once)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Extend the deadline (once)")
