"""Procedures on the web: the catalogue and who may start what, start forms, the instance page
with its diagram's highlights and timeline, and the Secretariat's overview."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from lxml import html
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task
from engine.scheduler.passes import run_pass
from models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    csrf_token,
    elements,
    field_names,
    links,
    main_region,
    main_text,
    values,
    words,
)
from webui import create_app
from webui.procedures.routes import BPMN_JS_DIR, VIEWER_SCRIPT
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts
from workflows.people.roles import BOARD_SEATS

PROCEDURES = {
    "board_decision": "Board decision",
    "membership": "Becoming an IISG member",
    "methodology_amendment": "Amending a methodology",
    "needs_mapping": "Biennial needs mapping",
    "response_mapping": "Annual response mapping",
    "silent_procedure": "Silent written procedure of the Board",
}
SILENT_START = "/procedures/silent_procedure/start"
LAUNCH = {"subject": "Work programme 2027", "proposal": "The Board adopts the work programme."}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create many people."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class Iisg:
    """The methodology deployed from bpmn/, the Secretariat, the Board, an applicant and a
    member who takes part in nothing."""

    db: Database
    clock: Clock
    board: dict[str, Participant]

    def launch(self, browser: Browser, data: dict[str, str] | None = None) -> int:
        """Launch a silent procedure from its start page; the new instance's id."""
        response = browser.submit(SILENT_START, SILENT_START, data or LAUNCH)
        assert response.status_code == 302, response.get_data(as_text=True)
        found = re.fullmatch(r"/instances/(\d+)", response.headers["Location"])
        assert found, response.headers["Location"]
        return int(found.group(1))

    def answer(self, seat: str, instance_id: int, answer: str, reason: str = "") -> None:
        person = self.board[seat]

        def work(session: Session) -> None:
            task = session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance_id,
                    HumanTask.organisation == seat,
                    HumanTask.status == "open",
                )
            ).one()
            data = {"answer": answer} | ({"reason": reason} if reason else {})
            complete_task(session, task.id, data, participant=person, now=self.clock.now())

        self.db.run(work)

    def counts(self) -> tuple[int, int]:
        """How many instances and audit events there are (a refused start changes neither)."""
        with self.db.session() as session:
            return (
                session.scalar(select(func.count()).select_from(ProcessInstance)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=clock.now()))
    make_person("sec", Grant("secretariat"))
    make_person("applicant", Grant("applicant"))
    make_person("outsider", Grant("member"))
    board = {
        seat.code: make_person(f"board-{seat.code.lower()}", Grant("board_member", seat.code))
        for seat in BOARD_SEATS
    }
    return Iisg(db, clock, board)


def state_of(browser: Browser, instance_id: int) -> dict[str, list[str]]:
    response = browser.get(f"/instances/{instance_id}/state.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    state: dict[str, list[str]] = json.loads(response.get_data(as_text=True))
    return state


def test_the_catalogue_lists_the_six_procedures_with_their_descriptions(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    catalogue = browser("sec").region("/procedures")

    for key, name in PROCEDURES.items():
        assert [words(h2) for h2 in elements(catalogue, f'.//h2[@id="procedure-{key}"]')] == [name]
        assert f"/procedures/{key}/start" in links(catalogue)
    assert "The IISG Board decides based on consensus (Terms of Reference, 2017)" in words(
        catalogue
    )
    assert [words(link) for link in catalogue.iter("a")].count("Start") == 6


def test_the_applicant_may_start_only_membership(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    applicant = browser("applicant")

    catalogue = applicant.region("/procedures")
    assert all(name in words(catalogue) for name in PROCEDURES.values())
    assert [words(link) for link in catalogue.iter("a")].count("Start") == 1
    assert "/procedures/membership/start" in links(catalogue)

    form = field_names(applicant.text("/procedures/membership/start"))
    assert "organisation_name" in form
    # The system knows who the applicant is, and that they reached out themselves.
    assert "applicant_username" not in form
    assert "how_it_began" not in form

    before = iisg.counts()
    token = csrf_token(applicant.get("/procedures/membership/start"))
    for key in PROCEDURES.keys() - {"membership"}:
        assert applicant.get(f"/procedures/{key}/start").status_code == 403
        refused = applicant.client.post(
            f"/procedures/{key}/start", data={**LAUNCH, "csrf_token": token}
        )
        assert refused.status_code == 403
    assert iisg.counts() == before
    assert browser("board-al").get("/procedures/membership/start").status_code == 403


def test_a_board_member_proposes_an_amendment_and_is_named_as_its_proposer(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    """Response Mapping Methodology 2022, III: "The proposals for amending the Methodology
    can come from any IISG partner to the IISG Secretariat": a Board member starts the
    proposal from the catalogue; the form does not ask who proposes it."""
    member = browser("board-al")
    start = "/procedures/methodology_amendment/start"
    catalogue = member.region("/procedures")
    assert [words(link) for link in catalogue.iter("a")].count("Start") == 1
    assert start in links(catalogue)
    form = field_names(member.text(start))
    assert form >= {"process_key", "proposal_summary"}
    assert "proposed_by" not in form

    response = member.submit(
        start,
        start,
        {"process_key": "response_mapping", "proposal_summary": "Add a midterm review."},
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    seen = main_text(member.text(response.headers["Location"]))
    assert "board-al started the procedure" in seen
    assert "Draft the amended diagram" in seen
    assert browser("outsider").get(start).status_code == 403


def test_an_applicant_who_starts_membership_sees_it_and_their_expression_of_interest(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    applicant = browser("applicant")
    start = "/procedures/membership/start"

    response = applicant.submit(
        start,
        start,
        {
            "organisation_name": "Organization for Security and Co-operation in Europe",
            "organisation_code": "OSCE",
            "member_group": "international_partner",
            "partner_type": "international_organisation",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    page = applicant.text(response.headers["Location"])
    seen = main_text(page)
    assert "Started: Becoming an IISG member." in seen
    assert "Becoming an IISG member: Organization for Security and Co-operation in Europe" in seen
    assert "applicant started the procedure" in seen
    assert "Express interest in IISG membership" in seen
    assert "Data gathered so far" not in page  # the data is for the Secretariat


def test_invalid_start_data_is_refused_with_its_reasons_and_starts_nothing(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    before = iisg.counts()

    response = secretariat.submit(SILENT_START, SILENT_START, {"subject": "", "proposal": ""})

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    assert "Nothing was started yet" in words(form)
    assert elements(form, './/*[@aria-invalid="true"]')
    assert iisg.counts() == before


def test_when_the_diagram_refuses_to_start_the_form_says_why_and_nothing_starts(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    start = "/procedures/membership/start"
    before = iisg.counts()

    response = secretariat.submit(
        start,
        start,
        {
            "how_it_began": "approach",
            "organisation_name": "INTERPOL",
            "organisation_code": "INTERPOL",
            "member_group": "eu_jha_agency",
            "applicant_username": "nobody-yet",
        },
    )

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    assert "there is no active login 'nobody-yet' for the applicant" in words(form)
    assert "INTERPOL" in values(form, ".//input/@value")  # what was typed is kept
    assert iisg.counts() == before


def test_starting_a_silent_procedure_opens_its_instance_page(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")

    instance_id = iisg.launch(secretariat)

    page = secretariat.region(f"/instances/{instance_id}")
    assert "Started: Silent written procedure of the Board." in words(page)
    assert [words(h1) for h1 in page.iter("h1")] == [
        "Silent written procedure of the Board: Work programme 2027"
    ]
    assert "Silent written procedure of the Board, version 1" in words(page)
    assert "sec started the procedure" in words(page)
    with iisg.db.session() as session:
        instance = session.get_one(ProcessInstance, instance_id)
        assert (instance.started_by, instance.status) == ("sec", "running")


def test_the_instance_page_shows_open_tasks_their_holders_and_where_it_stands(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    instance_id = iisg.launch(secretariat)

    page = secretariat.main(f"/instances/{instance_id}")
    assert "Answer the silent procedure" in page
    assert "Board member (Albania)" in page
    assert "Board member (Kosovo*)" in page
    assert "Board member (European Commission)" in page
    assert "Extend the deadline (once)" in page
    assert "7 Dec 2026, 09:00 UTC" in page  # ten working days from Monday 23 November
    assert "Data gathered so far" in page
    assert "Work programme 2027" in page

    state = state_of(secretariat, instance_id)
    # The seats' answers are drawn inside "Board members answer", a collapsed subprocess.
    assert set(state["current"]) == {
        "board_answers",
        "answer_silent_procedure",
        "extend_deadline",
        "deadline_passed",
    }
    assert {"start", "set_defaults", "look_up_board", "open_decision_record"} <= set(state["done"])
    done_before = set(state["done"])

    iisg.answer("AL", instance_id, "objection", "The programme needs a budget first.")

    state = state_of(secretariat, instance_id)
    assert state["current"] == []
    assert set(state["done"]) > done_before | {"answer_silent_procedure", "close_by_answers"}
    page = secretariat.main(f"/instances/{instance_id}")
    assert "board-al completed 'Answer the silent procedure'" in page
    assert "No task is open." in page
    assert "completed" in page


def test_a_called_silent_procedure_is_highlighted_as_its_call_activity(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    start = "/procedures/board_decision/start"
    response = secretariat.submit(start, start, LAUNCH)
    assert response.status_code == 302, response.get_data(as_text=True)
    instance_url = response.headers["Location"]
    instance_id = int(instance_url.rsplit("/", 1)[1])
    assert state_of(secretariat, instance_id)["current"] == ["choose_method"]
    with iisg.db.session() as session:
        choose = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "choose_method"
            )
        ).one()
    task_url = f"/tasks/{choose.id}"
    chosen = secretariat.submit(task_url, f"{task_url}/complete", {"method": "silent_procedure"})
    assert chosen.status_code == 302, chosen.get_data(as_text=True)

    state = state_of(secretariat, instance_id)

    # The silent procedure's own steps are in its own diagram, not in this one.
    assert state["current"] == ["run_silent_procedure"]
    assert "choose_method" in state["done"]
    assert "answer_silent_procedure" not in state["done"]
    # A Board member with a task in the called procedure sees the instance it runs in.
    assert "Answer the silent procedure" in browser("board-xk").main(instance_url)


def test_the_timeline_says_when_the_scheduler_fired_the_deadline(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    instance_id = iisg.launch(secretariat)
    iisg.answer("RS", instance_id, "no_objection")

    iisg.clock.move(days=14, seconds=1)
    run_pass(iisg.db.factory)

    secretariat = browser("sec")  # the session of two weeks ago has expired
    page = secretariat.main(f"/instances/{instance_id}")
    events = ["sec started", "board-rs completed", "the scheduler fired 'Deadline passes'"]
    positions = [page.index(words) for words in events]
    assert positions == sorted(positions)


def test_people_with_a_task_in_the_instance_see_it_without_its_data(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = iisg.launch(browser("sec"))
    board_al = browser("board-al")

    page = board_al.text(f"/instances/{instance_id}")

    assert "Answer the silent procedure" in main_text(page)
    assert "Data gathered so far" not in page
    assert state_of(board_al, instance_id)["current"]


def test_someone_without_a_task_in_the_instance_is_refused(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = iisg.launch(browser("sec"))

    for username in ("outsider", "applicant"):
        someone = browser(username)
        for suffix in ("", "/diagram.bpmn", "/state.json"):
            response = someone.get(f"/instances/{instance_id}{suffix}")
            assert response.status_code == 403, (username, suffix)
    assert browser("sec").get("/instances/999999").status_code == 404


def test_the_diagram_is_the_version_s_bpmn_served_as_xml(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    instance_id = iisg.launch(secretariat)

    response = secretariat.get(f"/instances/{instance_id}/diagram.bpmn")

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.get_data() == (BPMN_DIR / "silent_procedure.bpmn").read_bytes()
    page = html.fromstring(secretariat.text(f"/instances/{instance_id}"))
    assert values(page, "//main//@data-diagram-url") == [f"/instances/{instance_id}/diagram.bpmn"]
    assert values(page, "//main//@data-state-url") == [f"/instances/{instance_id}/state.json"]
    scripts = [script.get("src") for script in page.iter("script")]
    assert f"/vendor/bpmn-js/{VIEWER_SCRIPT}" in scripts
    assert "/static/instance_diagram.js" in scripts
    assert None not in scripts  # no script written into the page


def test_the_overview_shows_what_is_late_and_by_whom_to_the_secretariat_only(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    first = iisg.launch(secretariat, {**LAUNCH, "subject": "First matter"})
    iisg.clock.move(hours=1)
    second = iisg.launch(secretariat, {**LAUNCH, "subject": "Second matter"})
    iisg.answer("AL", second, "no_objection")

    overview = secretariat.region("/overview")
    page = words(overview)
    assert "nothing late" in page
    assert "late" not in [words(strong) for strong in overview.iter("strong")]
    assert "Answer the silent procedure" in page and "Extend the deadline (once)" in page
    assert page.index("Second matter") < page.index("First matter")
    oldest_first = secretariat.main("/overview?order=oldest")
    assert oldest_first.index("First matter") < oldest_first.index("Second matter")
    assert {f"/instances/{first}", f"/instances/{second}"} <= set(links(overview))

    iisg.clock.move(days=14, hours=1)  # past both deadlines; no scheduler has run

    overview = browser("sec").region("/overview")
    late = words(overview)
    assert "late Answer the silent procedure: Board member (Kosovo*)" in late
    assert "late" in [words(strong) for strong in overview.iter("strong")]
    second_row = late[late.index("Second matter") : late.index("First matter")]
    first_row = late[late.index("First matter") :]
    assert "Board member (Albania)" in first_row
    assert "Board member (Albania)" not in second_row  # Albania answered in time

    for username in ("board-al", "applicant", "outsider"):
        assert browser(username).get("/overview").status_code == 403


def test_the_viewer_s_files_are_served_from_its_dist_directory_only(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")

    script = secretariat.get(f"/vendor/bpmn-js/{VIEWER_SCRIPT}")
    assert script.status_code == 200
    assert script.mimetype in {"text/javascript", "application/javascript"}
    assert b"BpmnJS" in script.get_data()
    assert secretariat.get("/vendor/bpmn-js/assets/bpmn-js.css").status_code == 200

    for outside in (
        "/vendor/bpmn-js/../package.json",
        "/vendor/bpmn-js/%2e%2e/package.json",
        "/vendor/bpmn-js/..%2fpackage.json",
        "/vendor/bpmn-js/%2e%2e/%2e%2e/%2e%2e/package.json",
        "/vendor/bpmn-js/no-such-file.js",
    ):
        assert secretariat.get(outside).status_code == 404, outside
    # Werkzeug first merges the slashes of "//etc/passwd", then the file is not in dist.
    absolute = secretariat.get("/vendor/bpmn-js//etc/passwd", follow_redirects=True)
    assert absolute.status_code == 404
    assert (BPMN_JS_DIR.parent / "package.json").is_file()  # it exists, and is not served


def test_without_the_viewer_installed_the_instance_page_says_so(
    iisg: Iisg, db: Database, tmp_path: Path
) -> None:
    app: Flask = create_app(
        {"DATABASE_URL": db.url, "SECRET_KEY": "test", "TESTING": True, "BPMN_JS_DIR": tmp_path}
    )
    try:
        secretariat = Browser(app.test_client())
        secretariat.log_in("sec")
        instance_id = iisg.launch(secretariat)

        page = secretariat.text(f"/instances/{instance_id}")

        assert "The diagram viewer is not installed on this server" in main_text(page)
        assert "/vendor/bpmn-js/" not in page
        assert "Answer the silent procedure" in main_text(page)
        assert secretariat.get(f"/vendor/bpmn-js/{VIEWER_SCRIPT}").status_code == 404
    finally:
        app.extensions["iisg"].engine.dispose()


def test_the_start_form_refuses_a_post_without_a_csrf_token(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    before = iisg.counts()

    response = secretariat.client.post(SILENT_START, data=LAUNCH)

    assert response.status_code == 400
    assert "The form was not accepted" in main_text(response.get_data(as_text=True))

    assert iisg.counts() == before


def test_every_procedure_page_sends_anonymous_visitors_to_log_in(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = iisg.launch(browser("sec"))
    anonymous = browser()

    for url in (
        "/procedures",
        SILENT_START,
        f"/instances/{instance_id}",
        f"/instances/{instance_id}/diagram.bpmn",
        f"/instances/{instance_id}/state.json",
        "/overview",
        f"/vendor/bpmn-js/{VIEWER_SCRIPT}",
    ):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def data_shown(page: str) -> dict[str, str]:
    """The instance page's "Data gathered so far", label by label, as a person reads it."""
    region = main_region(page)
    return {
        " ".join(dt.text_content().split()): " ".join(dd.text_content().split())
        for dt, dd in zip(
            region.findall('.//dl[@class="answers"]/div/dt'),
            region.findall('.//dl[@class="answers"]/div/dd'),
            strict=True,
        )
    }


def test_the_open_tasks_link_to_their_pages_for_those_who_may_open_them(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    instance_id = iisg.launch(secretariat)
    with iisg.db.session() as session:
        xk_task = session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.organisation == "XK"
            )
        ).one()

    def task_links(page: str) -> list[tuple[str, str]]:
        table = main_region(page).find('.//section[@aria-labelledby="open-tasks"]')
        assert table is not None
        return [(a.text_content(), str(a.get("href"))) for a in table.iter("a")]

    # The Secretariat follows every step; a Board member opens their own seat's.
    seen_by_secretariat = task_links(secretariat.text(f"/instances/{instance_id}"))
    assert len(seen_by_secretariat) == 8  # seven seats and the extension
    assert ("Answer the silent procedure", f"/tasks/{xk_task}") in seen_by_secretariat
    assert task_links(browser("board-xk").text(f"/instances/{instance_id}")) == [
        ("Answer the silent procedure", f"/tasks/{xk_task}")
    ]


def test_the_data_gathered_is_labelled_and_in_words(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    start = "/procedures/membership/start"
    response = secretariat.submit(
        start,
        start,
        {
            "how_it_began": "approach",
            "organisation_name": "INTERPOL",
            "organisation_code": "INTERPOL",
            "member_group": "international_partner",
            "partner_type": "international_organisation",
            "applicant_username": "applicant",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    shown = data_shown(secretariat.text(response.headers["Location"]))

    assert shown["Name of the country/Organisation"] == "INTERPOL"
    # A choice of the start form reads as its words, not its code.
    assert shown["Kind of international partner"] == "International organisation"
    assert shown["Member group"].startswith("Western Balkans' relevant international partner")
    # A record the procedure keeps is spelled out field by field, its moments as dates.
    assert shown["Application: Status"] == "applicant"
    assert shown["Application: Opened at"] == "23 Nov 2026, 09:00 UTC"
    assert not any(value.startswith(("{", "[")) for value in shown.values())
