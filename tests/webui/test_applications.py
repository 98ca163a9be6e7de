"""An applicant's own page, "My applications", and the first step an empty inbox offers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from lxml import html
from sqlalchemy import select

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task
from models import HumanTask
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.workflows.board.test_membership import expression_of_interest
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts

START = "/procedures/membership/start"
OSCE = {
    "organisation_name": "Organization for Security and Co-operation in Europe",
    "organisation_code": "OSCE",
    "member_group": "international_partner",
    "partner_type": "international_organisation",
}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create several people."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def applicant(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Participant:
    """The methodology deployed, the Secretariat, a member who takes part in nothing, and an
    applicant."""
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=clock.now()))
    make_person("sec", Grant("secretariat"))
    make_person("outsider", Grant("member"))
    return make_person("applicant", Grant("applicant"))


def apply(browser: Browser) -> int:
    """Apply for the OSCE from the start form; the application's instance id."""
    response = browser.submit(START, START, OSCE)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def links(page: str) -> dict[str, str]:
    """The main region's links: their words and where they go."""
    return {
        " ".join(a.text_content().split()): str(a.get("href")) for a in main_region(page).iter("a")
    }


def test_after_applying_the_applicant_sees_the_state_and_their_next_step(
    applicant: Participant, browser: Callable[..., Browser], db: Database
) -> None:
    person = browser("applicant")
    instance_id = apply(person)
    with db.session() as s:
        task_id = s.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == "submit_expression_of_interest",
            )
        ).one()

    page = person.text("/my-applications")

    text = main_text(page)
    assert "Organization for Security and Co-operation in Europe" in text
    assert "Waiting for your expression of interest" in text
    assert "You: Fill in and sign the expression of interest." in text
    found = links(page)
    assert found["Fill in and sign the expression of interest."] == f"/tasks/{task_id}"
    assert found["Every step of this application"] == f"/instances/{instance_id}"
    # The header's navigation links to the page for applicants.
    nav = html.fromstring(page).find('.//nav[@aria-label="Main"]')
    assert nav is not None
    assert [a.get("href") for a in nav.iter("a") if a.text == "My applications"] == [
        "/my-applications"
    ]


def test_with_the_expression_of_interest_sent_the_secretariat_acts_next(
    applicant: Participant, browser: Callable[..., Browser], db: Database, clock: Clock
) -> None:
    person = browser("applicant")
    instance_id = apply(person)
    with db.session() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).one()
    db.run(
        lambda s: complete_task(
            s,
            task_id,
            expression_of_interest(OSCE["organisation_name"]),
            participant=applicant,
            now=clock.now(),
        )
    )

    text = main_text(person.text("/my-applications"))
    assert "Expression of interest received" in text
    assert "The IISG Secretariat: The Secretariat assesses your application" in text
    assert "no deadline set" in text

    # Nothing left to do: the empty inbox points to the application, and to what they may start.
    inbox = person.text("/inbox")
    assert "Nothing to do." in main_text(inbox)
    found = links(inbox)
    assert found["See your applications"] == "/my-applications"
    assert found["Start: Becoming an IISG member"] == START


def test_an_applicant_without_an_application_is_offered_to_apply(
    applicant: Participant, browser: Callable[..., Browser]
) -> None:
    page = browser("applicant").text("/my-applications")

    assert "You have no membership application yet. Apply for IISG membership." in main_text(page)
    assert links(page)["Apply for IISG membership"] == START


def test_an_empty_inbox_offers_only_what_the_person_may_start(
    applicant: Participant, browser: Callable[..., Browser]
) -> None:
    outsider = main_text(browser("outsider").text("/inbox"))
    assert "Nothing to do." in outsider
    assert "Procedures you may start" not in outsider
    assert "See your applications" not in outsider

    secretariat = links(browser("sec").text("/inbox"))
    assert secretariat["Start: Silent written procedure of the Board"] == (
        "/procedures/silent_procedure/start"
    )
    assert "See your applications" not in secretariat
