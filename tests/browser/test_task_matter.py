"""Every task shows its matter, in the browser: the Secretariat sees the proposal on the step
where it chooses how the Board decides, and a Board member answers in two clicks."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot

SUBJECT = "IISG work programme 2028"
PROPOSAL = "The Board adopts the IISG work programme for 2028, with its three pillars' plans."


def test_the_secretariat_launches_a_decision_and_sees_the_proposal_on_choose_how_the_board_decides(
    page: Page,
) -> None:
    log_in(page, "secretariat")
    page.goto("/procedures/board_decision/start")
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Proposal").fill(PROPOSAL)
    page.get_by_role("button", name="Start the procedure").click()
    expect(page.get_by_role("status")).to_contain_text("Started")

    # The procedure's open task is a link to its page.
    page.get_by_role("link", name="Choose how the Board decides").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose how the Board decides")
    matter = page.get_by_role("region", name="The proposal to the Board")
    expect(matter).to_be_visible()
    expect(matter).to_contain_text(SUBJECT)
    expect(matter.get_by_text(PROPOSAL)).to_be_visible()
    expect(page.get_by_role("region", name="What the methodology asks")).not_to_contain_text(
        "list of potential members"
    )
    screenshot(page, "choose-how-the-board-decides")
    # And back to the procedure from the task.
    page.get_by_role("link", name=f"Board decision: {SUBJECT}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Board decision")


def test_a_board_member_goes_from_the_inbox_to_answering_in_two_clicks(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start("board_decision", {"subject": SUBJECT, "proposal": PROPOSAL})
    iisg.complete("secretariat", instance_id, "choose_method", {"method": "silent_procedure"})
    log_in(page, "board-mk")

    page.get_by_role("link", name="Answer the silent procedure").click()  # one

    expect(page).to_have_url(f"/silent-procedures/{instance_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(page.get_by_text(PROPOSAL)).to_be_visible()
    page.get_by_role("button", name="No objection").click()  # two

    expect(page.get_by_role("status")).to_contain_text(
        "Your answer is recorded: no objection.", ignore_case=True
    )
