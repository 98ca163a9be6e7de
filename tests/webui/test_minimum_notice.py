"""A Board decision cannot be closed before the Board has seen it: a deadline a person types,
on the web or through the API, lies at least the minimum notice ahead
(IISG_SILENT_PROCEDURE_MIN_NOTICE), and an extension moves the deadline later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.instances.assignment import Participant
from models import AuditEvent, Decision, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region
from tests.webui.test_api import Api, problem_of, token_for
from tests.workflows.conftest import Iisg, methodology_and_board
from webui import create_app
from workflows.settings import SettingsError

SILENT_START = "/procedures/silent_procedure/start"
PROPOSAL = "The Board adopts the IISG work programme for 2027 as circulated."
PAST = "2020-01-01T10:00:00+00:00"
PICKED_PAST = "2020-01-01T10:00"  # as the page's date and time picker sends it
# The suite's clock starts on Monday 23 November 2026, 09:00 UTC.
NOT_BEFORE_TOMORROW = "after 24 November 2026, 09:00 UTC."


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    return methodology_and_board(db, clock, make_person)


def launch(api: Api, deadline: str | None) -> Any:
    return api.post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {"subject": "Work programme 2027", "proposal": PROPOSAL, "deadline": deadline},
        },
    )


def counts(db: Database) -> tuple[int, int, int]:
    """Instances, decisions and audit events: a refused launch changes none of them."""
    with db.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (ProcessInstance, Decision, AuditEvent)
        )


@pytest.fixture
def app_without_notice(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[Flask]:
    """The app as an operator runs a demo: IISG_SILENT_PROCEDURE_MIN_NOTICE=PT0S."""
    monkeypatch.setenv("IISG_SILENT_PROCEDURE_MIN_NOTICE", "PT0S")
    app = create_app({"DATABASE_URL": db.url, "SECRET_KEY": "test", "TESTING": True})
    yield app
    app.extensions["iisg"].engine.dispose()


def test_an_api_launch_with_a_deadline_already_past_is_422_and_starts_nothing(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    secretariat = Api(app, token_for(db, clock, "secretariat"))
    before = counts(db)

    body = problem_of(launch(secretariat, PAST), 422)

    assert body["errors"] == [
        {
            "field": "deadline",
            "message": f"The deadline must be at least 24 hours from now: {NOT_BEFORE_TOMORROW}",
        }
    ]
    assert counts(db) == before


def test_a_deadline_an_hour_ahead_is_too_soon_unless_the_notice_is_none(
    db: Database, clock: Clock, iisg: Iisg, app: Flask, app_without_notice: Flask
) -> None:
    in_an_hour = (clock.now() + timedelta(hours=1)).isoformat()

    refused = problem_of(launch(Api(app, token_for(db, clock, "secretariat")), in_an_hour), 422)
    assert [e["field"] for e in refused["errors"]] == ["deadline"]

    demo = Api(app_without_notice, token_for(db, clock, "secretariat"))
    started = launch(demo, in_an_hour)
    assert started.status_code == 201, started.get_data(as_text=True)
    assert problem_of(launch(demo, PAST), 422)["errors"] == [
        {
            "field": "deadline",
            "message": "The deadline must be in the future: after 23 November 2026, 09:00 UTC.",
        }
    ]


def test_an_extension_to_an_earlier_or_past_deadline_is_422_naming_the_field(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    secretariat = Api(app, token_for(db, clock, "secretariat"))
    assert launch(secretariat, "2026-12-04T17:00:00+01:00").status_code == 201
    (extension,) = secretariat.get("/tasks").get_json()["tasks"]  # the Board answers the rest
    assert extension["name"] == "Extend the deadline (once)"
    extend = f"/tasks/{extension['id']}/complete"

    earlier = secretariat.post(extend, {"data": {"new_deadline": "2026-12-02T17:00:00+01:00"}})
    assert problem_of(earlier, 422)["errors"] == [
        {
            "field": "new_deadline",
            "message": "The new deadline must be later than the current one: "
            "after 4 December 2026, 16:00 UTC.",
        }
    ]
    past = secretariat.post(extend, {"data": {"new_deadline": PAST}})
    assert problem_of(past, 422)["errors"] == [
        {
            "field": "new_deadline",
            "message": "The new deadline must be at least 24 hours from now: "
            + NOT_BEFORE_TOMORROW,
        }
    ]
    later = secretariat.post(extend, {"data": {"new_deadline": "2026-12-11T17:00:00+01:00"}})
    assert later.status_code == 200, later.get_data(as_text=True)


def test_a_web_launch_with_a_deadline_already_past_says_so_beside_the_field(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    before = counts(db)

    response = secretariat.submit(
        SILENT_START,
        SILENT_START,
        {"subject": "Work programme 2027", "proposal": PROPOSAL, "deadline": PICKED_PAST},
    )

    assert response.status_code == 400
    main = main_region(response.get_data(as_text=True))
    (field,) = main.xpath(".//input[@name='deadline']/ancestor::div[contains(@class, 'field')][1]")
    (error,) = field.xpath(".//p[@class='field-error']")
    assert error.text_content() == (
        f"Error: The deadline must be at least 24 hours from now: {NOT_BEFORE_TOMORROW}"
    )
    assert main.xpath(".//input[@name='deadline']/@value") == [PICKED_PAST]
    assert [t.text for t in main.xpath(".//textarea[@name='proposal']")] == [PROPOSAL]
    assert counts(db) == before


def test_a_minimum_notice_that_is_not_a_duration_stops_the_app_at_start(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IISG_SILENT_PROCEDURE_MIN_NOTICE", "24 hours")
    with pytest.raises(SettingsError, match=r"should be an ISO 8601 duration .* like PT24H"):
        create_app({"DATABASE_URL": db.url, "SECRET_KEY": "test"})


def test_a_proposal_of_blanks_is_422_naming_it_and_starts_nothing(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    secretariat = Api(app, token_for(db, clock, "secretariat"))
    before = counts(db)
    tomorrow_noon = (clock.now() + timedelta(days=2)).isoformat()

    answer = secretariat.post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {
                "subject": "Work programme 2027",
                "proposal": "   ",
                "deadline": tomorrow_noon,
            },
        },
    )

    assert problem_of(answer, 422)["errors"] == [
        {
            "field": "proposal",
            "message": "The proposal has no text: write what the Board is asked to decide.",
        }
    ]
    assert counts(db) == before


def test_a_deadline_picked_in_the_persons_time_zone_is_kept_with_its_offset(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    form = main_region(secretariat.text(SILENT_START))
    assert form.xpath(".//input[@name='deadline']/@type") == ["datetime-local"]
    # Without script the system's zone; the page's script puts the browser's in its place.
    assert form.xpath(".//input[@name='_time_zone']/@value") == ["UTC"]
    assert form.xpath("string(.//p[@id='form-time-zone'])") == (
        "Dates and times on this form are in your time zone: UTC."
    )

    response = secretariat.submit(
        SILENT_START,
        SILENT_START,
        {
            "subject": "Work programme 2027",
            "proposal": PROPOSAL,
            "deadline": "2026-12-10T17:00",
            "_time_zone": "Europe/Belgrade",
        },
    )

    assert response.status_code == 302
    with db.session() as session:
        (decision,) = session.scalars(select(Decision))
        assert decision.deadline is not None
    # 17:00 in Belgrade in December is 16:00 UTC.
    assert decision.deadline.astimezone(UTC) == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)


def test_a_picked_time_the_clocks_skip_is_refused_beside_the_field_and_kept(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    before = counts(db)

    response = secretariat.submit(
        SILENT_START,
        SILENT_START,
        {
            "subject": "Work programme 2027",
            "proposal": PROPOSAL,
            "deadline": "2027-03-28T02:30",
            "_time_zone": "Europe/Belgrade",
        },
    )

    assert response.status_code == 400
    main = main_region(response.get_data(as_text=True))
    assert main.xpath("string(.//p[@id='field-deadline-error'])") == (
        "Error: 02:30 does not exist on 28 March 2027 in Europe/Belgrade: the clocks go "
        "forward then. Choose a later time"
    )
    assert main.xpath(".//input[@name='deadline']/@value") == ["2027-03-28T02:30"]
    assert main.xpath(".//input[@name='_time_zone']/@value") == ["Europe/Belgrade"]
    assert counts(db) == before


def test_a_time_zone_the_system_does_not_know_stops_the_app_at_start(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IISG_TIME_ZONE", "Europe/Atlantis")
    with pytest.raises(SettingsError, match=r"IISG_TIME_ZONE should name a time zone, like"):
        create_app({"DATABASE_URL": db.url, "SECRET_KEY": "test"})
