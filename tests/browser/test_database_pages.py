"""The IISG database in the browser: accessible with real data in it, and the analysis page
as the README shows it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Need, Organisation, Report, Response
from models.mapping import NEED_KINDS, SUB_PILLARS
from tests.browser.axe import assert_accessible
from tests.browser.conftest import Iisg, log_in, screenshot
from workflows.people.roles import PILLARS, WB_PARTNERS

SUMMARY = "Across the six partners, legal frameworks are largely in place; capacity is the gap."


def _seed(session: Session) -> int:
    """Two mappings' worth of needs, some answered, one supported twice; a published report.
    The id of one need."""
    now = datetime.now(UTC)
    for code in ("AT", "DE"):
        if session.get(Organisation, code) is None:
            session.add(Organisation(code=code, name=code, member_group="international_partner"))
    first = None
    for number, (partner, need_pillar, sub_pillar, year) in enumerate(
        (p.code, pillar, sub, year)
        for year in (2024, 2026)
        for p in WB_PARTNERS
        for pillar in PILLARS
        for sub in SUB_PILLARS[: 1 + len(p.code + pillar) % 3]
    ):
        need = Need(
            partner=partner,
            pillar=need_pillar,
            sub_pillar=sub_pillar,
            kind=NEED_KINDS[number % 3],
            perspective=("prevention", "response")[number % 2],
            description=f"{sub_pillar.replace('_', ' ').capitalize()} need {number} of {partner}",
            source_year=year,
            status="open",
            created_at=now,
            updated_at=now,
        )
        session.add(need)
        session.flush()
        first = first or need.id
        # Coverage that differs by partner, pillar and year, so the matrix shows its colours.
        chance = (ord(partner[0]) * 3 + ord(need_pillar[3]) * 5 + year) % 7
        answered = (number * 37) % 7 < chance
        if answered:
            session.add(
                Response(
                    need_id=need.id,
                    provider=partner,
                    provider_kind="partner",
                    description=f"Measure taken by {partner}",
                    period="past_year",
                    year=year,
                    status="completed",
                    created_at=now,
                    updated_at=now,
                )
            )
        if number % 11 == 0:
            for member in ("AT", "DE"):
                session.add(
                    Response(
                        need_id=need.id,
                        provider=member,
                        provider_kind="project_support",
                        description=f"Project support by {member}",
                        period="past_year",
                        year=year,
                        status="ongoing",
                        created_at=now,
                        updated_at=now,
                    )
                )
    session.add(
        Report(
            kind="needs_mapping",
            pillar="WBCTi",
            year=2024,
            summary=SUMMARY,
            status="published",
            approved_at=now,
            published_at=now,
        )
    )
    assert first is not None
    return first


@pytest.fixture
def need_id(iisg: Iisg) -> int:
    """The database with a plausible history in it (the demo's, or ours when it has none)."""
    with iisg.db.session() as session:
        existing = session.scalar(select(func.min(Need.id)))
    if existing is not None:
        return int(existing)
    result: int = iisg.db.run(_seed)
    return result


@pytest.mark.parametrize(
    "url",
    [
        "/database/needs",
        "/database/needs?partner=AL&has_response=no",
        "/database/responses",
        "/database/analysis",
        "/database/analysis?pillar=WBBSi",
        "/database/reports",
        "NEED",
    ],
)
def test_the_database_pages_have_no_violation(page: Page, need_id: int, url: str) -> None:
    log_in(page, "secretariat")
    response = page.goto(f"/database/needs/{need_id}" if url == "NEED" else url)
    assert response is not None and response.ok
    assert_accessible(page)


def test_the_public_page_has_no_violation(page: Page, need_id: int) -> None:
    response = page.goto("/public")
    assert response is not None and response.ok
    assert_accessible(page)


def test_the_analysis_page_as_the_readme_shows_it(page: Page, need_id: int) -> None:
    log_in(page, "secretariat")
    page.goto("/database/analysis")
    expect(page.get_by_role("heading", name="Coverage by partner and pillar")).to_be_visible()
    page.evaluate("document.getElementById('coverage-heading').scrollIntoView()")
    screenshot(page, "analysis")
    page.get_by_role(
        "table", name="Needs with a response out of all needs, per partner"
    ).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/database/needs\?partner="))
