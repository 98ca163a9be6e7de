"""A Board member sets up two-factor sign-in in Chromium, as production requires: the QR code
and the key on the page, the code from the app, the recovery codes; the next sign-in asks for
a code after the password."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Iisg, log_in, screenshot


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server starts as production does: the Board needs a second factor."""
    monkeypatch.setenv("IISG_TWO_FACTOR_REQUIRED", "true")


def test_a_board_member_sets_up_an_authenticator_and_signs_in_with_a_recovery_code(
    required: None, page: Page, iisg: Iisg
) -> None:
    log_in(page, "board-al")

    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    expect(page.locator("figure.qr svg")).to_be_visible()
    key = "".join(page.locator("figcaption code").inner_text().split())
    screenshot(page, "two-factor-set-up")

    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them: go to my inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your inbox")
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("main")).to_contain_text("Two-factor sign-in: on")
    screenshot(page, "account")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("User name").fill("board-al")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your inbox")
