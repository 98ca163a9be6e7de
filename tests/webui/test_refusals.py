"""A refusal is never a 500: a rule a person broke inside a step is said beside the field they
typed (web) or as 422 naming it (API), and nothing changes; a date-time the database cannot
hold is refused by the form; a real failure of a diagram is a 500 without SQL, traceback or
memory address, and the Secretariat is told of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from lxml import html
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.diagrams.bundle import check_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, HumanTask, Need, Organisation, OutboxMessage, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, elements, main_region, snapshot, values, words
from tests.webui.test_api import Api, token_for
from tests.workflows.board.test_membership import ASSESSMENT, apply_and_express_interest
from tests.workflows.conftest import Iisg, methodology_and_board
from tests.workflows.mappings.test_response_mapping import Mapping, open_mapping
from workflows.people import accounts
from workflows.people.roles import known_roles

NEVER_SHOWN = ("INSERT", "SELECT", "Traceback", "0x", "sqlalchemy", "psycopg", ".py")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat and the seven Board members."""
    return methodology_and_board(db, clock, make_person)


def main_of(response: TestResponse) -> html.HtmlElement:
    """The page's main region, where a person reads what happened."""
    return main_region(response.get_data(as_text=True))


def error_beside(main: html.HtmlElement, field_id: str) -> str:
    """The error shown beside the control with `field_id` (empty when there is none)."""
    found = elements(main, f'.//p[@class="field-error"][@id="field-{field_id}-error"]')
    return " ".join(words(error) for error in found)


def typed(main: html.HtmlElement) -> list[str]:
    """What the fields of the page's forms hold: what was typed, kept."""
    return values(main, ".//input/@value | .//textarea/text()")


def api_for(db: Database, clock: Clock, app: Flask, username: str) -> Api:
    return Api(app, token_for(db, clock, username))


def refused_422(response: TestResponse, field: str) -> str:
    """The 422 problem's message for `field` (its first error)."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["errors"][0]["field"] == field, body
    for word in NEVER_SHOWN:
        assert word not in response.get_data(as_text=True)
    return str(body["errors"][0]["message"])


def count(db: Database, model: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def open_task_id(db: Database, instance_id: int, bpmn_id: str, **scope: str) -> int:
    with db.session() as session:
        query = select(HumanTask.id).where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
        )
        for column, value in scope.items():
            query = query.where(getattr(HumanTask, column) == value)
        return int(session.scalars(query).one())


# --- Response mapping: a response to a need that is not the partner's ---------------------


@pytest.fixture
def mapping(iisg: Iisg, make_person: Callable[..., Participant]) -> Mapping:
    """Albania and Montenegro mapped a need each in WB CTi; Albania's focal point answers."""
    focal_points = {
        (code, "WBCTi"): make_person(
            f"fp-{code.lower()}-wbcti", Grant("focal_point", code, "WBCTi")
        )
        for code in ("AL", "ME")
    }

    def seed(session: Session) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for partner in ("AL", "ME"):
            need = Need(
                partner=partner,
                pillar="WBCTi",
                sub_pillar="legal_framework",
                kind="legislative",
                perspective="prevention",
                description=f"A need of {partner}.",
                source_year=2025,
                status="open",
                created_at=iisg.clock.now(),
                updated_at=iisg.clock.now(),
            )
            session.add(need)
            session.flush()
            found[f"{partner}-WBCTi"] = [need.id]
        return found

    return Mapping(iisg, focal_points, {}, iisg.db.run(seed))


def test_a_response_to_another_partners_need_is_refused_by_the_api_with_400(
    db: Database, clock: Clock, app: Flask, mapping: Mapping
) -> None:
    instance_id = open_mapping(mapping.iisg)
    task_id = open_task_id(db, instance_id, "deliver_information", organisation="AL")
    montenegros = mapping.needs["ME-WBCTi"][0]
    focal_point = api_for(db, clock, app, "fp-al-wbcti")
    before = (snapshot(db, instance_id), count(db, OutboxMessage))

    response = focal_point.post(
        f"/tasks/{task_id}/complete",
        {
            "data": {
                "state_of_play": "Ongoing.",
                "responses": [
                    {
                        "need_id": montenegros,
                        "response": "Not ours to give.",
                        "period": "planned",
                        "status": "planned",
                    }
                ],
            }
        },
    )

    # The task's form lists Albania's own open needs only: Montenegro's is off that list.
    assert response.status_code == 400, response.get_data(as_text=True)
    [error] = response.get_json()["errors"]
    assert error["field"] == "responses/0/need_id"
    assert f"{montenegros} is not on the list for this task" in error["message"]
    assert (snapshot(db, instance_id), count(db, OutboxMessage)) == before


def test_a_response_to_another_partners_need_is_said_beside_the_need_on_the_web(
    db: Database, browser: Callable[..., Browser], mapping: Mapping
) -> None:
    instance_id = open_mapping(mapping.iisg)
    task_id = open_task_id(db, instance_id, "deliver_information", organisation="AL")
    montenegros = mapping.needs["ME-WBCTi"][0]
    before = snapshot(db, instance_id)
    url = f"/tasks/{task_id}"

    response = browser("fp-al-wbcti").submit(
        url,
        f"{url}/complete",
        {
            "state_of_play": "Work under way on the law.",
            "responses-0-need_id": str(montenegros),
            "responses-0-response": "A working group drafts the law.",
            "responses-0-period": "planned",
            "responses-0-status": "planned",
        },
    )

    assert response.status_code == 400
    main = main_of(response)
    assert "is not on the list for this task" in error_beside(main, "responses-0-need_id")
    assert "Work under way on the law." in typed(main)
    assert "A working group drafts the law." in typed(main)
    assert snapshot(db, instance_id) == before


# --- Membership: a Board list that has gone; an organisation already on the register ------


def board_list_sent(iisg: Iisg, make_person: Callable[..., Participant]) -> int:
    """One application's list went to the Board; a later application awaits assessment."""
    first = apply_and_express_interest(
        iisg, make_person("applicant-a", Grant("applicant")), "ORGA", "Organisation A"
    )
    iisg.complete(
        iisg.secretariat, "assess_application", first, ASSESSMENT | {"board_list": "Spring 2027"}
    )
    iisg.complete(iisg.secretariat, "send_list_to_board", first, {})
    return apply_and_express_interest(
        iisg, make_person("applicant-d", Grant("applicant")), "ORGD", "Organisation D"
    )


def test_an_application_put_on_a_list_gone_to_the_board_is_refused_by_the_api(
    db: Database, clock: Clock, app: Flask, iisg: Iisg, make_person: Callable[..., Participant]
) -> None:
    late = board_list_sent(iisg, make_person)
    task_id = open_task_id(db, late, "assess_application")
    secretariat = api_for(db, clock, app, "secretariat")
    before = snapshot(db, late)

    response = secretariat.post(
        f"/tasks/{task_id}/complete", {"data": ASSESSMENT | {"board_list": "spring  2027"}}
    )

    assert "has already gone to the Board" in refused_422(response, "board_list")
    assert snapshot(db, late) == before


def test_an_application_put_on_a_list_gone_to_the_board_is_said_beside_the_list(
    db: Database,
    browser: Callable[..., Browser],
    iisg: Iisg,
    make_person: Callable[..., Participant],
) -> None:
    late = board_list_sent(iisg, make_person)
    task_id = open_task_id(db, late, "assess_application")
    before = snapshot(db, late)
    url = f"/tasks/{task_id}"

    response = browser("secretariat").submit(
        url, f"{url}/complete", ASSESSMENT | {"board_list": "Spring 2027"}
    )

    assert response.status_code == 400
    main = main_of(response)
    assert "has already gone to the Board" in error_beside(main, "board_list")
    assert "Shares the IISG's aims in the region." in typed(main)
    assert snapshot(db, late) == before


def membership_start(code: str, applicant: str) -> dict[str, str]:
    return {
        "how_it_began": "approach",
        "organisation_name": "A second Albania",
        "organisation_code": code,
        "member_group": "international_partner",
        "partner_type": "international_organisation",
        "applicant_username": applicant,
    }


def test_an_organisation_code_already_on_the_register_is_refused_by_the_api(
    db: Database, clock: Clock, app: Flask, iisg: Iisg, make_person: Callable[..., Participant]
) -> None:
    make_person("applicant-x", Grant("applicant"), Grant("board_member", "AL"))
    secretariat = api_for(db, clock, app, "secretariat")
    before = (count(db, ProcessInstance), count(db, AuditEvent))

    response = secretariat.post(
        "/instances", {"process": "membership", "data": membership_start("AL", "applicant-x")}
    )

    assert "is already an IISG member" in refused_422(response, "organisation_code")
    assert (count(db, ProcessInstance), count(db, AuditEvent)) == before
    with db.session() as session:
        albania = session.get(Organisation, "AL")
        assert albania is not None and albania.name == "AL"


def test_an_organisation_code_already_on_the_register_is_said_beside_the_code(
    db: Database,
    browser: Callable[..., Browser],
    iisg: Iisg,
    make_person: Callable[..., Participant],
) -> None:
    make_person("applicant-x", Grant("applicant"), Grant("board_member", "AL"))
    before = count(db, ProcessInstance)
    url = "/procedures/membership/start"

    response = browser("secretariat").submit(url, url, membership_start("AL", "applicant-x"))

    assert response.status_code == 400
    main = main_of(response)
    assert "is already an IISG member" in error_beside(main, "organisation_code")
    assert "A second Albania" in typed(main)
    assert count(db, ProcessInstance) == before


# --- A date-time the database cannot hold ---------------------------------------------------

BEYOND_THE_DATABASE = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]


def words_shown(page: TestResponse) -> str:
    """What a person reads of a page: its text, not the values of its forms' fields (a random
    CSRF token may well hold "0x")."""
    document = html.document_fromstring(page.get_data(as_text=True))
    assert isinstance(document, html.HtmlElement)
    return " ".join(document.text_content().split())


def refused_400(response: TestResponse, field: str) -> str:
    """The 400 problem's message for `field`, with nothing of the server's insides."""
    assert response.status_code == 400, response.get_data(as_text=True)
    for word in NEVER_SHOWN:
        assert word not in response.get_data(as_text=True)
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert field in errors, errors
    return str(errors[field])


def calendar_task(iisg: Iisg) -> tuple[int, int]:
    """A response mapping waiting for its draft calendar: (instance id, task id)."""
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    return instance_id, open_task_id(iisg.db, instance_id, "prepare_draft_calendar")


@pytest.mark.parametrize("moment", BEYOND_THE_DATABASE)
def test_a_date_time_the_database_cannot_hold_is_refused_by_the_api_at_start_and_in_a_task(
    moment: str, db: Database, clock: Clock, app: Flask, iisg: Iisg
) -> None:
    instance_id, task_id = calendar_task(iisg)
    secretariat = api_for(db, clock, app, "secretariat")
    before = (count(db, ProcessInstance), snapshot(db, instance_id))

    started = secretariat.post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {"subject": "Dates", "proposal": "A proposal.", "deadline": moment},
        },
    )
    completed = secretariat.post(
        f"/tasks/{task_id}/complete",
        {"data": {"calendar": "Input in four weeks.", "input_deadline": moment}},
    )

    assert "between the years 1900 and 2200" in refused_400(started, "deadline")
    assert "between the years 1900 and 2200" in refused_400(completed, "input_deadline")
    assert (count(db, ProcessInstance), snapshot(db, instance_id)) == before


@pytest.mark.parametrize("moment", BEYOND_THE_DATABASE)
def test_a_date_time_the_database_cannot_hold_is_said_beside_the_field_on_the_web(
    moment: str, db: Database, browser: Callable[..., Browser], iisg: Iisg
) -> None:
    instance_id, task_id = calendar_task(iisg)
    secretariat = browser("secretariat")
    before = (count(db, ProcessInstance), snapshot(db, instance_id))
    start_url, task_url = "/procedures/silent_procedure/start", f"/tasks/{task_id}"

    started = secretariat.submit(
        start_url,
        start_url,
        {"subject": "Dates", "proposal": "A proposal kept as typed.", "deadline": moment},
    )
    completed = secretariat.submit(
        task_url,
        f"{task_url}/complete",
        {"calendar": "Input in four weeks, kept.", "input_deadline": moment},
    )

    for response, field, kept in (
        (started, "deadline", "A proposal kept as typed."),
        (completed, "input_deadline", "Input in four weeks, kept."),
    ):
        assert response.status_code == 400
        main = main_of(response)
        assert "between the years 1900 and 2200" in error_beside(main, field)
        # The picker shows the moment as typed, at its own offset's wall-clock time.
        assert kept in typed(main) and moment[:16] in typed(main)
        for word in NEVER_SHOWN:
            assert word not in words_shown(response)
    assert (count(db, ProcessInstance), snapshot(db, instance_id)) == before


# --- A real failure of a diagram ------------------------------------------------------------

FAILING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_failing" targetNamespace="https://iisg.example/tests">
  <bpmn:process id="failing_step" name="A diagram with a bug in a service task" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_secretariat" name="Secretariat">
        <bpmn:flowNodeRef>prepare</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="prepare" name="Prepare the matter">
      <bpmn:documentation>Prepare the matter for the Board.</bpmn:documentation>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:serviceTask id="open_record" name="Open the decision record">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="open_decision" resultVariable="decision">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="proposal" type="str" value="&quot;A proposal.&quot;" />
            <spiffworkflow:parameter id="deadline" type="str"
                value="&quot;9999-12-31T23:59:59-14:00&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="open_record" />
    <bpmn:sequenceFlow id="f3" sourceRef="open_record" targetRef="end" />
  </bpmn:process>
  <bpmn:process id="failing_script" name="A diagram with a bug in a script" isExecutable="true">
    <bpmn:startEvent id="script_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="figures" name="Work out the figures">
      <bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
      <bpmn:script>figure = lambda: 0
found = {}[str(figure)]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="script_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="script_start" targetRef="figures" />
    <bpmn:sequenceFlow id="s2" sourceRef="figures" targetRef="script_end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def failing(db: Database, clock: Clock, iisg: Iisg) -> None:
    """Two diagrams with a bug each, deployed as if it had slipped past every check."""
    bundle, problems = check_bundle({"failing.bpmn": FAILING}, known_roles())
    assert bundle is not None, problems
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))


def failures_told(db: Database) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The step failures on the audit trail, and the mail to the Secretariat about them."""
    with db.session() as session:
        events = [
            e.payload
            for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "step.failed"))
        ]
        mails = [
            (m.recipient or "", m.subject)
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "step_failed")
            )
        ]
        return events, mails


def test_a_database_failure_inside_a_step_is_a_500_without_sql_and_the_secretariat_is_told(
    db: Database, clock: Clock, app: Flask, iisg: Iisg, failing: None
) -> None:
    instance_id = iisg.start("failing_step", {})
    task_id = open_task_id(db, instance_id, "prepare")
    secretariat = api_for(db, clock, app, "secretariat")
    tasks_before = snapshot(db, instance_id)[0]

    response = secretariat.post(f"/tasks/{task_id}/complete", {"data": {}})

    assert response.status_code == 500
    text = response.get_data(as_text=True)
    for word in NEVER_SHOWN:
        assert word not in text
    detail = response.get_json()["detail"]
    assert "the step 'Open the decision record' of the methodology went wrong" in detail
    assert "the database refused what the step wrote" in detail
    assert "Nothing was saved. The Secretariat, who keep the methodology, have been told" in detail
    assert snapshot(db, instance_id)[0] == tasks_before
    events, mails = failures_told(db)
    assert [(e["step"], e["reason"]) for e in events] == [
        ("Open the decision record", "the database refused what the step wrote")
    ]
    assert mails == [("", "A step failed: Open the decision record")]


def test_a_script_failing_at_start_is_a_500_page_without_its_insides_and_the_secretariat_is_told(
    db: Database, browser: Callable[..., Browser], iisg: Iisg, failing: None
) -> None:
    url = "/procedures/failing_script/start"

    response = browser("secretariat").submit(url, url, {})

    assert response.status_code == 500
    for word in NEVER_SHOWN:
        assert word not in words_shown(response)
    main = main_of(response)
    assert "the step 'Work out the figures' of the methodology went wrong" in words(main)
    assert "(it raised KeyError)" in words(main)
    assert "have been told: try again once they have put it right." in words(main)
    assert count(db, ProcessInstance) == 0
    events, mails = failures_told(db)
    assert [(e["step"], e["process"]) for e in events] == [
        ("Work out the figures", "failing_script")
    ]
    assert [subject for _to, subject in mails] == ["A step failed: Work out the figures"]
