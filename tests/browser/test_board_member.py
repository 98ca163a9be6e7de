"""A Board member answers a silent written procedure in the browser and finds the record."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Iisg, log_in, screenshot

SUBJECT = "Response-mapping summaries 2026"
PROPOSAL = "The Board approves the summaries of the 2026 response-mapping reports for publication."
OTHER_SEATS = ("BA", "XK", "ME", "MK", "RS", "EC")


def test_a_board_member_answers_a_silent_procedure_and_sees_the_record(
    page: Page, iisg: Iisg
) -> None:
    instance_id = iisg.start("silent_procedure", {"subject": SUBJECT, "proposal": PROPOSAL})

    log_in(page, "board-al")
    task_link = page.get_by_role("link", name="Answer the silent procedure")
    expect(task_link).to_be_visible()
    screenshot(page, "board-inbox")
    task_link.click()

    expect(page).to_have_url(f"/silent-procedures/{instance_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(page.get_by_text(PROPOSAL)).to_be_visible()
    screenshot(page, "silent-procedure")
    page.get_by_role("button", name="No objection").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Your answer is recorded: no objection.", ignore_case=True
    )
    expect(page.get_by_role("button", name="No objection")).to_have_count(0)
    expect(page.get_by_text("1 of 7 seats have answered.")).to_be_visible()

    # The six other seats answer too: the proposal is adopted at once.
    for seat in OTHER_SEATS:
        iisg.complete(
            f"board-{seat.lower()}",
            instance_id,
            "answer_silent_procedure",
            {"answer": "no_objection"},
            organisation=seat,
        )
    page.reload()
    expect(page.get_by_role("heading", name="Each seat's answer or silence")).to_be_visible()
    albania = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Albania"))
    expect(albania).to_contain_text("no objection", ignore_case=True)
    expect(albania).to_contain_text("board-al")
    page.get_by_role("heading", name="Each seat's answer or silence").scroll_into_view_if_needed()
    screenshot(page, "silent-procedure-closed")

    page.get_by_role("link", name="The decision record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    expect(page.get_by_text("adopted", exact=False).first).to_be_visible()
    screenshot(page, "decision-record")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board decisions").click()
    entry = page.get_by_role("row").filter(has_text=SUBJECT)
    expect(entry).to_contain_text("adopted", ignore_case=True)
    screenshot(page, "decision-register")
