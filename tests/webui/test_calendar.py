"""The Secretariat's holidays page: the year's public holidays, for everyone and per partner,
added and removed on the web; nobody else may open it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.instances.assignment import Grant, Participant
from models import AuditEvent, Organisation, PublicHoliday
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, elements, links, main_region, main_text, values, words

CALENDAR_2027 = "/calendar?year=2027"
ADD = "/calendar/holidays"


@pytest.fixture
def secretariat(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> Browser:
    """The Secretariat, logged in; Serbia is a partner on record."""
    make_person("sec", Grant("secretariat"))
    db.run(
        lambda s: s.add(
            Organisation(code="RS", name="Serbia", member_group="wb_partner", is_member=True)
        )
    )
    return browser("sec")


def holidays(db: Database) -> list[tuple[date, str, str | None]]:
    with db.session() as session:
        rows = session.execute(
            select(PublicHoliday.day, PublicHoliday.name, PublicHoliday.partner).order_by(
                PublicHoliday.day, PublicHoliday.partner
            )
        ).all()
        return [(day, name, partner) for day, name, partner in rows]


def audit_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_the_secretariat_adds_a_holiday_for_everyone_and_one_for_a_partner(
    db: Database, secretariat: Browser
) -> None:
    added = secretariat.submit(
        CALENDAR_2027, ADD, {"day": "2027-01-01", "name": "New Year's Day", "partner": ""}
    )
    assert added.status_code == 302
    assert added.headers["Location"].endswith(CALENDAR_2027)
    secretariat.submit(
        CALENDAR_2027, ADD, {"day": "2027-01-07", "name": "Orthodox Christmas", "partner": "RS"}
    )

    page = secretariat.text(CALENDAR_2027)

    assert "Added Orthodox Christmas on Thursday 07 January 2027, for Serbia." in main_text(page)
    (everyone,) = elements(main_region(page), './/section[@aria-labelledby="everyone-heading"]')
    assert "New Year's Day" in words(everyone) and "Orthodox Christmas" not in words(everyone)
    serbia = elements(main_region(page), './/section[@aria-labelledby="partners-heading"]/h3')[5]
    assert words(serbia) == "Serbia" and "Orthodox Christmas" in words(serbia.getnext())
    assert holidays(db) == [
        (date(2027, 1, 1), "New Year's Day", None),
        (date(2027, 1, 7), "Orthodox Christmas", "RS"),
    ]


def test_a_duplicate_holiday_is_refused_with_the_reason_and_nothing_changes(
    db: Database, secretariat: Browser
) -> None:
    secretariat.submit(CALENDAR_2027, ADD, {"day": "2027-05-01", "name": "Labour Day"})
    before = (holidays(db), audit_count(db))

    refused = secretariat.submit(
        CALENDAR_2027, ADD, {"day": "2027-05-01", "name": "May Day", "partner": ""}
    )

    assert refused.status_code == 400
    form = main_region(refused.get_data(as_text=True))
    assert "Nothing was changed" in words(form)
    assert "01 May 2027 is already a holiday (Labour Day)" in words(form)
    assert values(form, ".//input[@name='name']/@value") == ["May Day"]  # what was typed is kept
    assert (holidays(db), audit_count(db)) == before


def test_a_date_that_is_not_a_date_is_refused_in_plain_words(
    db: Database, secretariat: Browser
) -> None:
    refused = secretariat.submit(CALENDAR_2027, ADD, {"day": "1 May", "name": "Labour Day"})

    assert refused.status_code == 400
    assert "Give the date as year-month-day, like 2027-01-01." in main_text(
        refused.get_data(as_text=True)
    )
    assert holidays(db) == []


def test_the_secretariat_removes_a_holiday_after_confirming(
    db: Database, secretariat: Browser
) -> None:
    secretariat.submit(CALENDAR_2027, ADD, {"day": "2027-12-25", "name": "Christmas Day"})
    with db.session() as session:
        holiday_id = session.scalars(select(PublicHoliday.id)).one()
    remove = f"/calendar/holidays/{holiday_id}/remove"

    asked = secretariat.submit(CALENDAR_2027, remove, {})
    assert asked.status_code == 200
    assert "Remove Christmas Day?" in main_text(asked.get_data(as_text=True))
    assert len(holidays(db)) == 1

    removed = secretariat.submit(CALENDAR_2027, remove, {"confirmed": "yes"})

    assert removed.status_code == 302
    assert holidays(db) == []
    page = secretariat.main(CALENDAR_2027)
    assert "Removed Christmas Day on Saturday 25 December 2027 from the calendar." in page


def test_the_page_moves_between_years(db: Database, secretariat: Browser) -> None:
    secretariat.submit(CALENDAR_2027, ADD, {"day": "2028-01-01", "name": "New Year's Day"})

    page_2028 = secretariat.text("/calendar?year=2028")  # where the form sent the browser
    page_2027 = secretariat.text(CALENDAR_2027)

    assert "New Year's Day" not in main_text(page_2027)
    assert "New Year&#39;s Day" not in page_2027
    assert "/calendar?year=2028" in links(main_region(page_2027))
    assert "New Year's Day" in main_text(page_2028)
    assert "Public holidays 2028" in main_text(page_2028)
    assert secretariat.get("/calendar?year=next").status_code == 404


def test_the_navigation_links_the_holidays_for_the_secretariat_only(
    secretariat: Browser, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("board-al", Grant("board_member", "AL"))

    assert "/calendar" in links(secretariat.text("/inbox"))
    assert "/calendar" not in links(browser("board-al").text("/inbox"))


def test_a_board_member_may_not_open_or_change_the_calendar(
    db: Database,
    secretariat: Browser,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("board-al", Grant("board_member", "AL"))
    member = browser("board-al")

    page = member.get(CALENDAR_2027)
    token_page = "/inbox"
    added = member.submit(token_page, ADD, {"day": "2027-01-01", "name": "New Year's Day"})

    assert page.status_code == 403
    assert "kept by the Secretariat" in main_text(page.get_data(as_text=True))
    assert added.status_code == 403
    assert holidays(db) == []


def test_an_anonymous_visitor_is_sent_to_the_login(browser: Callable[..., Browser]) -> None:
    response = browser().get(CALENDAR_2027)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    db: Database, secretariat: Browser
) -> None:
    response = secretariat.client.post(ADD, data={"day": "2027-01-01", "name": "New Year's Day"})

    assert response.status_code == 400
    assert "This form has expired or was not sent from this site." in response.get_data(
        as_text=True
    )
    assert holidays(db) == []
