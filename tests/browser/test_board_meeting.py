"""An objection breaks a silent procedure in the browser; the Secretariat takes the matter to
the Board's next meeting and records its decision; the register gives the final outcome and
links the two records."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot

SUBJECT = "Date of the 2027 Board retreat"
PROPOSAL = "The Board holds its 2027 retreat in Tirana, in May 2027."
REASON = "May clashes with our presidency; we propose June."


def test_an_objection_sends_the_matter_to_the_meeting_which_decides_it(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start("board_decision", {"subject": SUBJECT, "proposal": PROPOSAL})
    iisg.complete("secretariat", instance_id, "choose_method", {"method": "silent_procedure"})

    log_in(page, "board-me")
    page.goto(f"/silent-procedures/{instance_id}")
    page.get_by_label("Reason for the objection").fill(REASON)
    page.get_by_role("button", name="Object", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Your answer is recorded: objection")
    expect(page.get_by_role("main")).to_contain_text("silence broken by the objection of")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "secretariat")
    page.get_by_role(
        "link", name="Put the matter on the next Board meeting's agenda", exact=True
    ).click()
    page.get_by_label("Put it on the agenda of the next Board meeting").check()
    page.get_by_role("button", name="Submit").click()
    page.goto("/inbox")
    page.get_by_role("link", name="Record the Board's decision", exact=True).click()
    page.get_by_label("Adopted by consensus").check()
    page.get_by_label("Date of the Board meeting").fill("2026-12-15")
    page.get_by_label("Minutes").fill("The Board agreed to meet in Tirana in June 2027.")
    page.get_by_role("button", name="Submit").click()

    page.goto(f"/silent-procedures/{instance_id}")
    expect(page.get_by_role("main")).to_contain_text("silence broken by the objection of")
    page.get_by_role("link", name="The Board meeting's decision on this matter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    expect(page.get_by_role("main")).to_contain_text("The Board agreed to meet in Tirana")
    screenshot(page, "meeting-decision-after-an-objection")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board decisions").click()
    entries = page.get_by_role("row").filter(has_text=SUBJECT)
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("adopted", ignore_case=True)
