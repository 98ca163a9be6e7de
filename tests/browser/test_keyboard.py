"""A task completed with the keyboard alone: Tab, Space and Enter, never the mouse."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Iisg, screenshot
from tests.browser.keyboard import tab_to

MATTER = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}


def test_the_secretariat_chooses_how_the_board_decides_with_the_keyboard_alone(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start("board_decision", MATTER)
    page.goto("/login")

    first = tab_to(page, "a", "Skip to the content", limit=1)
    assert first.outline, "the skip link shows where the focus is"
    tab_to(page, "input", "User name")
    page.keyboard.type("secretariat")
    tab_to(page, "input", "Password", limit=1)
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url("/inbox")

    tab_to(page, "a", "Choose how the Board decides")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose how the Board decides")

    tab_to(page, "input", "By silent written procedure")
    page.keyboard.press("Space")
    expect(page.get_by_label("By silent written procedure")).to_be_checked()
    submit = tab_to(page, "button", "Submit")
    assert submit.outline, "the focused button shows a focus ring"
    screenshot(page, "keyboard-task")
    page.keyboard.press("Enter")

    expect(page).to_have_url("/inbox")
    expect(page.get_by_role("status")).to_contain_text("Done: Choose how the Board decides.")
    # The Board now has the silent procedure: every seat is asked, Albania's among them.
    assert iisg.task_id(instance_id, "answer_silent_procedure", "AL")
