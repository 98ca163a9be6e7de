"""The Secretariat withdraws a silent procedure in the browser; the Board member reads why."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import Iisg, log_in, screenshot

SUBJECT = "IISG visibility guidelines"
PROPOSAL = "The Board adopts the IISG visibility guidelines as circulated."
REASON = "The guidelines must be re-drafted to name the 2027 logo."


def test_the_secretariat_withdraws_a_procedure_and_the_board_member_reads_why(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start(
        "silent_procedure", {"subject": SUBJECT, "proposal": PROPOSAL}, title=SUBJECT
    )
    task_id = iisg.task_id(instance_id, "answer_silent_procedure", "AL")

    log_in(page, "secretariat")
    page.goto(f"/instances/{instance_id}")
    withdraw = page.get_by_role("region", name="Withdraw this procedure")
    assert_accessible(page)
    withdraw.get_by_label("Reason for withdrawing it").fill(REASON)
    withdraw.get_by_role("button", name="Withdraw…").click()

    # The confirmation lists what is withdrawn, and keeps the reason to check.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Withdraw {SUBJECT}?")
    expect(page.get_by_text("Board member (Albania)")).to_be_visible()
    expect(page.get_by_label("Reason for withdrawing it")).to_have_value(REASON)
    screenshot(page, "withdraw-confirm")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, withdraw it").click()

    expect(page).to_have_url(f"/instances/{instance_id}")
    expect(page.get_by_text(f"Withdrawn: {SUBJECT}.")).to_be_visible()
    expect(page.get_by_text(f"by secretariat: {REASON}")).to_be_visible()
    expect(page.get_by_role("region", name="Withdraw this procedure")).to_have_count(0)
    expect(page.get_by_text("No task is open.")).to_be_visible()

    page.goto(f"/silent-procedures/{instance_id}")
    expect(
        page.get_by_text(f"withdrawn by secretariat before the Board decided: {REASON}")
    ).to_be_visible()

    page.context.clear_cookies()
    log_in(page, "board-al")
    expect(page.get_by_role("link", name="Answer the silent procedure")).to_have_count(0)
    page.goto(f"/tasks/{task_id}")
    expect(page.get_by_role("status")).to_contain_text(
        f"This procedure was withdrawn by secretariat: {REASON}"
    )
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    screenshot(page, "withdrawn-task")
    assert_accessible(page)
