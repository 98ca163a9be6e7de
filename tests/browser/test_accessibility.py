"""axe-core finds no WCAG 2.1 A or AA violation on the pages people use.

Each page is a `Visit`: who looks at it (nobody, for the login page) and how to reach it
in the scene. A new page is one more entry in VISITS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, ViewportSize
from sqlalchemy import func, select

from models import Decision, OutboxMessage, ProcessInstance
from tests.browser.axe import assert_accessible, violations
from tests.browser.conftest import Iisg, log_in
from workflows.board.membership_demo import start_demo_membership
from workflows.mappings.response_mapping import start_demo_response_mapping
from workflows.people.roles import WB_PARTNERS

# A demo procedure's start: the instance, or None when it exists already.
DemoStart = Callable[..., ProcessInstance | None]
MATTER = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}


@dataclass(frozen=True)
class Scene:
    """What the pages are about: a Board decision by silent procedure, one seat answered."""

    iisg: Iisg
    instance_id: int

    def task_of(self, instance_id: int, bpmn_id: str) -> str:
        return f"/tasks/{self.iisg.task_id(instance_id, bpmn_id)}"

    def task(self, bpmn_id: str, organisation: str | None = None) -> str:
        return f"/tasks/{self.iisg.task_id(self.instance_id, bpmn_id, organisation)}"

    def demo_task(self, start: DemoStart, bpmn_id: str, organisation: str | None = None) -> str:
        """The page of an open step of a demo procedure, started for the visit."""
        started = self.iisg.db.run(lambda session: start(session, now=datetime.now(UTC)))
        assert started is not None
        return f"/tasks/{self.iisg.task_id(started.id, bpmn_id, organisation)}"

    def calendar_agreement(self, *, answered: bool) -> str:
        """A draft calendar sent to the WB partners: Albania's task to agree it, or, once every
        partner has answered (Serbia with a comment), the Secretariat's step that reads them."""
        instance_id = self.iisg.start("response_mapping", {"report_year": 2026})
        self.iisg.complete(
            "secretariat", instance_id, "prepare_draft_calendar", {"calendar": "Input in May."}
        )
        if not answered:
            return f"/tasks/{self.iisg.task_id(instance_id, 'agree_calendar', 'AL')}"
        for partner in WB_PARTNERS:
            answer: dict[str, str] = {"agreement_answer": "agree"}
            if partner.code == "RS":
                answer = {"agreement_answer": "comment", "agreement_comment": "Input in June."}
            self.iisg.complete(
                f"fp-{partner.code.lower()}-wbcti",
                instance_id,
                "agree_calendar",
                answer,
                organisation=partner.code,
            )
        return self.task_of(instance_id, "agree_calendar_with_wb_partners")

    def decision(self) -> str:
        with self.iisg.db.session() as session:
            decision_id = session.scalars(
                select(Decision.id).where(Decision.instance_id == self.instance_id)
            ).one()
        return f"/decisions/{decision_id}"

    def applied(self) -> str:
        """The applicant's page, once the Secretariat opened an application for them."""
        self.iisg.start(
            "membership",
            {
                "how_it_began": "approach",
                "organisation_name": "Organization for Security and Co-operation in Europe",
                "organisation_code": "OSCE",
                "member_group": "international_partner",
                "partner_type": "international_organisation",
                "applicant_username": "applicant",
            },
        )
        return "/my-applications"

    def mail(self) -> str:
        with self.iisg.db.session() as session:
            return f"/outbox/{session.scalars(select(func.min(OutboxMessage.id))).one()}"


@dataclass(frozen=True)
class Visit:
    """One page to check: its name, who is logged in, its address in the scene, and what
    shows it is ready (for pages that draw with script)."""

    name: str
    username: str | None
    url: Callable[[Scene], str]
    ready: str | None = None


VISITS = [
    Visit("login", None, lambda scene: "/login"),
    Visit("inbox", "board-al", lambda scene: "/inbox"),
    Visit("inbox filtered", "secretariat", lambda scene: "/inbox?q=board&state=overdue"),
    Visit("empty inbox", "applicant", lambda scene: "/inbox"),
    Visit("my applications", "applicant", lambda scene: scene.applied()),
    Visit("task", "board-al", lambda scene: scene.task("answer_silent_procedure", "AL")),
    Visit("task with claim", "secretariat", lambda scene: scene.task("extend_deadline")),
    Visit(
        "task with the proposal",
        "secretariat",
        lambda scene: scene.task_of(scene.iisg.start("board_decision", MATTER), "choose_method"),
    ),
    Visit(
        "task with the application",
        "secretariat",
        lambda scene: scene.demo_task(start_demo_membership, "assess_application"),
    ),
    Visit(
        "task with mapped needs",
        "fp-rs-wbcsci",
        lambda scene: scene.demo_task(start_demo_response_mapping, "deliver_information", "RS"),
    ),
    Visit(
        "task to agree the calendar",
        "fp-al-wbcti",
        lambda scene: scene.calendar_agreement(answered=False),
    ),
    Visit(
        "task with the partners' answers",
        "secretariat",
        lambda scene: scene.calendar_agreement(answered=True),
    ),
    Visit("reassign", "secretariat", lambda scene: scene.task("extend_deadline") + "/reassign"),
    Visit("done by me", "secretariat", lambda scene: "/done"),
    Visit("silent procedure", "board-al", lambda scene: f"/silent-procedures/{scene.instance_id}"),
    Visit("decision register", "board-al", lambda scene: "/decisions"),
    Visit("decision register printed", "board-al", lambda scene: "/decisions/print"),
    Visit("decision record", "board-al", lambda scene: scene.decision()),
    Visit("member register", "secretariat", lambda scene: "/members"),
    Visit("procedures", "secretariat", lambda scene: "/procedures"),
    Visit("start form", "secretariat", lambda scene: "/procedures/membership/start"),
    Visit(
        "amendment proposal",
        "board-al",
        lambda scene: "/procedures/methodology_amendment/start",
    ),
    Visit(
        "instance",
        "secretariat",
        lambda scene: f"/instances/{scene.instance_id}",
        ready="#diagram.is-drawn",
    ),
    Visit("overview", "secretariat", lambda scene: "/overview"),
    Visit("outbox", "secretariat", lambda scene: "/outbox"),
    Visit("outbox mail", "secretariat", lambda scene: scene.mail()),
    Visit("your mail", "board-al", lambda scene: "/account/mail"),
    Visit("database needs", "board-al", lambda scene: "/database/needs?partner=AL"),
    Visit("database responses", "board-al", lambda scene: "/database/responses"),
    Visit("database analysis", "secretariat", lambda scene: "/database/analysis"),
    Visit("database reports", "secretariat", lambda scene: "/database/reports"),
    Visit("public summaries", None, lambda scene: "/public"),
    Visit("methodology", "secretariat", lambda scene: "/methodology"),
    Visit("methodology versions", "secretariat", lambda scene: "/methodology/membership"),
    Visit(
        "methodology version",
        "secretariat",
        lambda scene: "/methodology/membership/versions/1",
        ready=".version-diagram.is-drawn",
    ),
    Visit(
        "methodology compare",
        "secretariat",
        lambda scene: "/methodology/membership/compare?from=1&to=1",
        ready="#diagram-new.is-drawn",
    ),
    Visit(
        "methodology editor",
        "secretariat",
        lambda scene: "/methodology/membership/edit?version=1",
        ready="#editor.is-drawn",
    ),
    Visit("methodology import", "secretariat", lambda scene: "/methodology/membership/import"),
]


@pytest.fixture
def scene(iisg: Iisg) -> Scene:
    """The Secretariat chose the silent procedure; Bosnia and Herzegovina has answered."""
    instance_id = iisg.start("board_decision", MATTER)
    iisg.complete("secretariat", instance_id, "choose_method", {"method": "silent_procedure"})
    iisg.complete(
        "board-ba", instance_id, "answer_silent_procedure", {"answer": "no_objection"}, "BA"
    )
    return Scene(iisg, instance_id)


# A laptop's screen and a phone's: every page is checked at both widths.
SCREENS: dict[str, ViewportSize] = {
    "1366": {"width": 1366, "height": 768},
    "390": {"width": 390, "height": 844},
}


@pytest.mark.parametrize("screen", SCREENS, ids=[f"{width}px" for width in SCREENS])
@pytest.mark.parametrize("visit", VISITS, ids=[visit.name for visit in VISITS])
def test_axe_core_finds_no_violation(page: Page, scene: Scene, visit: Visit, screen: str) -> None:
    page.set_viewport_size(SCREENS[screen])
    if visit.username is not None:
        log_in(page, visit.username)
    url = visit.url(scene)
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    if visit.ready is not None:
        page.locator(visit.ready).wait_for()
    assert_accessible(page)


def test_a_task_form_with_errors_has_no_violation(page: Page, scene: Scene) -> None:
    """The error summary and the fields marked invalid are accessible too."""
    log_in(page, "board-al")
    page.goto(scene.task("answer_silent_procedure", "AL"))
    page.get_by_label("Objection", exact=True).check()
    page.get_by_role("button", name="Submit").click()  # an objection needs its reason
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)


def test_the_check_reports_what_it_finds(page: Page) -> None:
    """The helper itself: a page with an unlabelled field and an image without text fails."""
    page.set_content('<html lang="en"><title>t</title><img src="x.png"><input type="text">')
    found = {violation["id"] for violation in violations(page)}
    assert {"image-alt", "label"} <= found
