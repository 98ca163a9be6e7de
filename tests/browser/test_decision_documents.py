"""The Secretariat launches a silent procedure with two files in the browser; a Board member
downloads each from the silent-procedure page, with the SHA-256 the page lists."""

from __future__ import annotations

import hashlib
from pathlib import Path

from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import log_in, screenshot

SUBJECT = "IISG work plan 2027"
PROPOSAL = "The Board adopts the IISG work plan 2027 and its budget, as attached."
WORK_PLAN = b"%PDF-1.7\nThe IISG work plan 2027: three pillars, one calendar.\n"
BUDGET = b"Line,Amount\nMeetings,12000\nSecretariat,48000\n"


def test_the_secretariat_launches_with_files_and_a_board_member_downloads_them(
    page: Page, tmp_path: Path
) -> None:
    log_in(page, "secretariat")
    page.goto("/procedures/silent_procedure/start")
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Proposal").fill(PROPOSAL)
    files: list[FilePayload] = [
        {"name": "Work plan 2027.pdf", "mimeType": "application/pdf", "buffer": WORK_PLAN},
        {"name": "budget-2027.csv", "mimeType": "text/csv", "buffer": BUDGET},
    ]
    page.get_by_label("Upload files").set_input_files(files)
    page.get_by_label("Upload files").scroll_into_view_if_needed()
    screenshot(page, "silent-procedure-launch")
    page.get_by_role("button", name="Start the procedure").click()
    expect(page.get_by_role("status")).to_contain_text("Started")
    instance_id = page.url.rstrip("/").rsplit("/", 1)[1]

    page.get_by_role("button", name="Log out").click()
    log_in(page, "board-al")
    page.goto(f"/silent-procedures/{instance_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    table = page.get_by_role("table", name="The files frozen with the proposal, in order")
    table.scroll_into_view_if_needed()
    screenshot(page, "silent-procedure-documents")
    for name, data in (("Work plan 2027.pdf", WORK_PLAN), ("budget-2027.csv", BUDGET)):
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        listed = row.locator("code.sha256").inner_text()
        expect(row).to_contain_text(f"{len(data)} bytes")
        with page.expect_download() as downloading:
            row.get_by_role("link", name=name).click()
        download = downloading.value
        assert download.suggested_filename == name
        saved = tmp_path / name
        download.save_as(saved)
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == listed
        assert saved.read_bytes() == data
