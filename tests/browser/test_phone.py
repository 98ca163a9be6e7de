"""On a 390 px phone: a compact header, the inbox's filters folded behind one line, and the
first task in sight without scrolling; the task page fits the screen's width."""

from __future__ import annotations

from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Iisg, log_in, screenshot

PHONE: ViewportSize = {"width": 390, "height": 844}
MATTER = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}


def _in_sight(page: Page, selector: str) -> bool:
    """Whether the whole element is within the screen as the page opens, unscrolled."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    size = page.viewport_size
    assert size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def _fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_board_members_first_task_is_in_sight_on_a_phone_with_the_filters_folded(
    page: Page, iisg: Iisg
) -> None:
    iisg.start("silent_procedure", {"subject": MATTER["subject"], "proposal": MATTER["proposal"]})
    page.set_viewport_size(PHONE)

    log_in(page, "board-al")

    filters = page.get_by_role("group").filter(has_text="Filter and sort")
    expect(page.get_by_text("Filter and sort", exact=True)).to_be_visible()
    expect(page.get_by_label("Search task and procedure names")).to_be_hidden()
    assert filters.count() == 1
    expect(page.get_by_role("link", name="Answer the silent procedure")).to_be_visible()
    assert _in_sight(page, ".cards > li")
    assert _fits_the_width(page)
    screenshot(page, "inbox-phone")

    page.get_by_text("Filter and sort", exact=True).click()
    expect(page.get_by_label("Search task and procedure names")).to_be_visible()


def test_the_secretariats_first_task_is_in_sight_on_a_phone_despite_a_longer_menu(
    page: Page, iisg: Iisg
) -> None:
    iisg.start("board_decision", MATTER)
    page.set_viewport_size(PHONE)

    log_in(page, "secretariat")

    assert _in_sight(page, ".cards > li")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 844 / 6, "the header stays compact"
    page.get_by_role("link", name="Choose how the Board decides", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose how the Board decides")
    assert _in_sight(page, "h1")
    assert _fits_the_width(page)


def test_a_wide_screen_shows_the_filters_open(page: Page, iisg: Iisg) -> None:
    iisg.start("board_decision", MATTER)
    page.set_viewport_size({"width": 1366, "height": 768})

    log_in(page, "secretariat")

    expect(page.get_by_label("Search task and procedure names")).to_be_visible()
    expect(page.get_by_text("Filter and sort", exact=True)).to_be_hidden()


def test_every_page_has_the_favicon(page: Page, iisg: Iisg) -> None:
    page.goto("/login")

    icon = page.locator('link[rel="icon"]').get_attribute("href")

    assert icon is not None
    response = page.request.get(icon)
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")
