"""Two applications on one Board list, decided one by one: the record says which the Board
confirmed; the Secretariat ends the other, and the member register holds the confirmed one."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot
from workflows.board.membership_demo import start_demo_membership_list


def test_a_list_of_two_with_one_confirmed_and_the_other_ended(page: Page, iisg: Iisg) -> None:
    # IOM and UNODC went to the Board on one list; the meeting confirmed IOM only.
    iisg.db.run(lambda s: start_demo_membership_list(s, now=datetime.now(UTC)))

    log_in(page, "secretariat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board decisions").click()
    page.get_by_role("row").filter(has_text="IISG membership, list").get_by_role(
        "link"
    ).first.click()
    items = page.get_by_role("region", name="Each application on the list")
    expect(items.get_by_role("listitem").filter(has_text="IOM")).to_contain_text("confirmed")
    expect(items.get_by_role("listitem").filter(has_text="UNODC")).to_contain_text("not confirmed")
    items.scroll_into_view_if_needed()
    screenshot(page, "membership-list-decided-one-by-one")

    page.goto("/inbox")
    page.get_by_role("link", name="Decide what becomes of the application", exact=True).click()
    page.get_by_label("End it here: membership not confirmed").check()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Done")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("row").filter(has_text="IOM")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="UNODC")).to_have_count(0)
