"""Nothing typed is lost, and dates are picked as people write them: the Secretariat extends a
silent procedure's deadline, attaching a document half-way through the form, and picks the
new deadline in their own time zone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT, Iisg, log_in

MATTER = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}
REASON = "Two seats asked for time to consult their ministries;\nthe annex lists them."
ANNEX = b"%PDF-1.7\nThe seats that asked for more time.\n"


def _extension_task(iisg: Iisg) -> str:
    """A silent procedure running; the address of the Secretariat's "Extend the deadline"."""
    instance_id = iisg.start("silent_procedure", MATTER)
    return f"/tasks/{iisg.task_id(instance_id, 'extend_deadline')}"


@pytest.fixture
def belgrade(chromium: Browser, live_server: str) -> Iterator[Page]:
    """A browser window whose clock runs in Belgrade (UTC+01:00 in winter)."""
    context = chromium.new_context(
        base_url=live_server, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Belgrade"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not blocked, "the Content-Security-Policy blocked:\n" + "\n".join(blocked)


def test_an_upload_mid_form_keeps_the_typed_values(page: Page, iisg: Iisg) -> None:
    task = _extension_task(iisg)
    log_in(page, "secretariat")
    page.goto(task)
    page.get_by_label("New deadline").fill("2027-01-15T17:00")
    page.get_by_label("Why the deadline is extended").fill(REASON)
    page.get_by_label("Add a comment").fill("The annex is for the minutes too.")

    page.get_by_label("Add a document").set_input_files(
        {"name": "seats-asking.pdf", "mimeType": "application/pdf", "buffer": ANNEX}
    )
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("status").filter(has_text="Uploaded")).to_have_text(
        "Uploaded: seats-asking.pdf. Your answer above is kept as you typed it; "
        "it is not submitted yet."
    )
    expect(page.get_by_role("rowheader", name="seats-asking.pdf")).to_be_visible()
    expect(page.get_by_label("New deadline")).to_have_value("2027-01-15T17:00")
    expect(page.get_by_label("Why the deadline is extended")).to_have_value(REASON)
    expect(page.get_by_label("Add a comment")).to_have_value("The annex is for the minutes too.")

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Extend the deadline")


def test_a_date_typed_with_the_picker(belgrade: Page, iisg: Iisg) -> None:
    page = belgrade
    task = _extension_task(iisg)
    log_in(page, "secretariat")
    page.goto(task)
    expect(page.locator("#form-time-zone")).to_have_text(
        "Dates and times on this form are in your time zone: Europe/Belgrade."
    )
    deadline = page.get_by_label("New deadline")
    expect(deadline).to_have_attribute("type", "datetime-local")

    deadline.fill("2027-01-15T17:00")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Extend the deadline")

    page.get_by_role("link", name="Done by me").click()
    expect(page.get_by_role("main")).to_contain_text("15 January 2027, 17:00 (UTC+01:00)")
