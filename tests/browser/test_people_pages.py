"""The Secretariat invites a focal point on the People page, and finds them in the list by
their role."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import OutboxMessage
from tests.browser.conftest import Iisg, log_in, screenshot


def test_the_secretariat_invites_a_focal_point_and_filters_the_list(page: Page, iisg: Iisg) -> None:
    log_in(page, "secretariat")
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    page.get_by_role("link", name="Invite a person").click()

    page.get_by_role("textbox", name="Name (required)", exact=True).fill("Ana Petrović")
    page.get_by_label("E-mail address", exact=False).fill("ana.petrovic@mup.gov.rs.example")
    page.get_by_label("User name").fill("a.petrovic")
    page.get_by_label("Organisation", exact=True).select_option("RS")
    page.get_by_label("Role", exact=True).select_option("focal_point")
    page.get_by_label("Pillar (focal point, Support Group member)").select_option("WBBSi")
    page.get_by_role("button", name="Invite").click()

    expect(page.get_by_role("status")).to_contain_text("Ana Petrović is invited")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Petrović")
    expect(page.get_by_role("main")).to_contain_text("Focal point, Serbia, WBBSi")

    page.get_by_role("link", name="← People").click()
    page.get_by_label("Role", exact=True).select_option("focal_point")
    page.get_by_label("Organisation").select_option("RS")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name="Ana Petrović")
    expect(row).to_contain_text("invited, no password yet")
    expect(page.get_by_role("row")).to_have_count(5)  # the header, three demo focal points, Ana
    screenshot(page, "people")

    with iisg.db.session() as session:
        [mail] = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.recipient == "ana.petrovic@mup.gov.rs.example"
            )
        ).all()
    assert "/login/invitation/" in mail.body
