"""The JSON API: each endpoint for the right and the wrong person, refusals as problem+json,
starting a procedure, decisions with answers and silence, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.audit import verify
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.api_contract import check_answer, validator
from tests.webui.conftest import People, task_of
from webui.api.openapi import PROBLEM, document
from workflows.api.contract import ref
from workflows.people.accounts import find_user
from workflows.people.tokens import create_token

TASK_FIELDS = {
    "id",
    "instance_id",
    "process",
    "name",
    "role",
    "scope",
    "claimed_by",
    "due_at",
    "status",
}
INSTANCE_FIELDS = {
    "id",
    "process",
    "version",
    "status",
    "started_at",
    "ended_at",
    "open_tasks",
    "history",
}
GOOD_REVIEW = {"approved": True, "comment": "Ready for the Board."}


class Api:
    """One person's API client: their token on every request."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, body: Any = None) -> TestResponse:
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=body)

    def post_text(self, path: str, text: str) -> TestResponse:
        """Post a body written by hand (what a JSON library would never send)."""
        return self.client.post(
            f"/api/v1{path}", headers=self.headers, data=text, content_type="application/json"
        )


def token_for(db: Database, clock: Clock, username: str) -> str:
    """A new personal access token for the user, as `iisg token create` makes one."""

    def work(session: Session) -> str:
        user = find_user(session, username)
        assert user is not None
        return create_token(session, user, "tests", now=clock.now())[1]

    secret: str = db.run(work)
    return secret


@pytest.fixture
def api(db: Database, clock: Clock, app: Flask) -> Callable[[str], Api]:
    """An API client for a user by name."""
    return lambda username: Api(app, token_for(db, clock, username))


def problem_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The problem+json body of a refusal with `status`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


def test_the_openapi_document_is_valid_and_public(app: Flask) -> None:
    validate(document())
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"] == "3.1.0"


def test_every_api_route_is_in_the_openapi_document(app: Flask) -> None:
    routes = {
        rule.rule.removeprefix("/api/v1")
        .replace("<int(min=1, max=2147483647):", "{")
        .replace("<", "{")
        .replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }
    assert routes == set(document()["paths"])


def test_an_answer_unlike_the_document_fails_the_contract_check(
    people: People, api: Callable[[str], Api]
) -> None:
    # Every test's API answers pass through this check (tests/webui/api_contract.py).
    me = api("sec").get("/me").get_json()
    check_answer("GET", "/api/v1/me", 200, "application/json", me)

    unlike = [
        (200, "application/json", {**me, "password": "x"}),  # a field the document lacks
        (200, "application/json", {k: v for k, v in me.items() if k != "roles"}),
        (200, "application/json", {**me, "roles": [{"role": "secretariat"}]}),
        (200, PROBLEM, me),  # a media type it does not list
        (404, PROBLEM, {"status": 404}),  # a status it does not list
    ]
    for status, media_type, body in unlike:
        with pytest.raises(AssertionError):
            check_answer("GET", "/api/v1/me", status, media_type, body)
    with pytest.raises(AssertionError):
        check_answer("GET", "/api/v1/tasks", 200, "application/json", {"tasks": [{"id": 1}]})
    with pytest.raises(AssertionError):
        check_answer("GET", "/api/v1/nowhere", 404, PROBLEM, {"detail": "no title"})


def test_without_a_token_the_api_answers_401(app: Flask) -> None:
    problem_of(app.test_client().get("/api/v1/tasks"), 401)


def test_the_caller_lists_their_open_tasks_with_the_inboxs_filters(
    people: People, start_lane_task: Callable[..., int], api: Callable[[str], Api]
) -> None:
    instance_id = start_lane_task()
    secretariat, board = api("sec"), api("board-al")

    listed = secretariat.get("/tasks").get_json()["tasks"]
    assert [t["instance_id"] for t in listed] == [instance_id]
    assert set(listed[0]) == TASK_FIELDS
    assert listed[0]["process"] == "lane_task"
    assert listed[0]["role"] == "secretariat"
    assert listed[0]["status"] == "open"
    assert secretariat.get("/tasks?procedure=membership").get_json()["tasks"] == []
    assert board.get("/tasks").get_json()["tasks"] == []


def test_everyones_tasks_are_for_the_secretariat_only(
    people: People, start_lane_task: Callable[..., int], api: Callable[[str], Api]
) -> None:
    start_lane_task()
    assert len(api("sec").get("/tasks?whose=everyone").get_json()["tasks"]) == 1
    problem_of(api("board-al").get("/tasks?whose=everyone"), 403)


@pytest.mark.parametrize(
    ("query", "parameter", "allowed"),
    [
        ("whose=mine", "whose", "use one of: everyone"),
        ("state=closed", "state", "use one of: open, late"),
        ("sort=name", "sort", "use one of: due, created, procedure"),
        ("state=", "state", "use one of: open, late"),
        ("state=late&state=open", "state", "give this parameter once"),
        ("procedure=lane%20task", "procedure", "give a BPMN process id"),
        ("q=" + "word " * 41, "q", "use at most 200 characters"),
        ("status=late", "status", "this operation has no such query parameter; it takes"),
    ],
)
def test_a_query_parameter_with_a_value_it_does_not_take_is_400_naming_it(
    people: People, api: Callable[[str], Api], query: str, parameter: str, allowed: str
) -> None:
    refused = problem_of(api("sec").get(f"/tasks?{query}"), 400)
    assert len(refused["errors"]) == 1
    assert refused["errors"][0]["field"] == parameter
    assert refused["errors"][0]["message"].startswith(allowed)


def test_every_query_parameter_with_fixed_values_refuses_any_other(
    people: People, api: Callable[[str], Api]
) -> None:
    secretariat = api("sec")
    checked = 0
    for path, operations in document()["paths"].items():
        for definition in operations.values():
            for parameter in definition.get("parameters", []):
                if parameter["in"] != "query" or "enum" not in parameter["schema"]:
                    continue
                refused = problem_of(secretariat.get(f"{path}?{parameter['name']}=nonsense"), 400)
                assert refused["errors"][0]["field"] == parameter["name"]
                assert "400" in definition["responses"]
                checked += 1
    assert checked >= 4


def test_a_task_comes_with_its_form_for_its_holder_only(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
) -> None:
    review = task_of(db, start_lane_task(), "review")

    found = api("sec").get(f"/tasks/{review.id}").get_json()
    assert found["id"] == review.id
    assert found["form"]["required"] == ["approved", "comment"]
    problem_of(api("board-al").get(f"/tasks/{review.id}"), 403)
    problem_of(api("sec").get("/tasks/999999"), 404)


def test_data_that_fails_the_form_is_refused_naming_the_field(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = api("sec")

    refused = problem_of(
        secretariat.post(f"/tasks/{review.id}/complete", {"data": {"approved": True}}), 400
    )
    assert [e["field"] for e in refused["errors"]] == ["comment"]
    bad_body = problem_of(secretariat.post(f"/tasks/{review.id}/complete", {"data": [1]}), 400)
    assert bad_body["errors"][0]["field"] == "data"
    assert task_of(db, review.instance_id, "review").status == "open"


def test_completing_moves_the_procedure_on_and_a_second_time_is_409(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
) -> None:
    instance_id = start_lane_task()
    review = task_of(db, instance_id, "review")
    secretariat = api("sec")

    problem_of(api("board-al").post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW}), 403)
    done = secretariat.post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "completed"
    again = problem_of(secretariat.post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW}), 409)
    assert "already completed by sec" in again["detail"]
    # The same audit trail as the web's: the completion, then the refused second answer.
    with db.session() as session:
        kinds = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.instance_id == instance_id)
        ).all()
    assert kinds[-2:] == ["task.completed", "task.refused"]
    assert [t["name"] for t in api("board-al").get("/tasks").get_json()["tasks"]] == [
        task_of(db, instance_id, "acknowledge").name
    ]


def test_a_task_claimed_by_someone_else_is_409_until_released(
    db: Database,
    people: People,
    make_person: Callable[..., Participant],
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
) -> None:
    make_person("sec-2", Grant("secretariat"))
    review = task_of(db, start_lane_task(), "review")
    first, second = api("sec"), api("sec-2")

    claimed = first.post(f"/tasks/{review.id}/claim")
    assert claimed.get_json()["claimed_by"] == "sec"
    problem_of(second.post(f"/tasks/{review.id}/claim"), 409)
    refused = problem_of(second.post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW}), 409)
    assert "claimed by sec" in refused["detail"]
    problem_of(api("board-al").post(f"/tasks/{review.id}/claim"), 403)
    problem_of(second.post(f"/tasks/{review.id}/release"), 409)

    released = first.post(f"/tasks/{review.id}/release")
    assert released.get_json()["claimed_by"] is None
    assert second.post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW}).status_code == 200


def test_the_catalogue_says_who_may_start_what(
    people: People, test_diagrams: None, api: Callable[[str], Api]
) -> None:
    for_secretariat = api("sec").get("/processes").get_json()["processes"]
    assert {"lane_task"} <= {p["process"] for p in for_secretariat}
    assert all(p["may_start"] for p in for_secretariat)
    assert not any(
        p["may_start"] for p in api("board-al").get("/processes").get_json()["processes"]
    )


def test_starting_a_procedure_answers_201_with_the_instance(
    people: People, test_diagrams: None, api: Callable[[str], Api]
) -> None:
    secretariat = api("sec")

    started = secretariat.post("/instances", {"process": "lane_task", "data": {"seat": "AL"}})
    assert started.status_code == 201, started.get_data(as_text=True)
    body = started.get_json()
    assert set(body) >= INSTANCE_FIELDS
    assert body["process"] == "lane_task" and body["status"] == "running"
    assert started.headers["Location"].endswith(f"/api/v1/instances/{body['id']}")
    assert [t["name"] for t in body["open_tasks"]] == ["Review the proposal"]
    assert body["history"][0]["event"] == "sec started the procedure"
    assert body["started_at"].endswith("+00:00")

    problem_of(api("board-al").post("/instances", {"process": "lane_task", "data": {}}), 403)
    unknown = problem_of(secretariat.post("/instances", {"process": "no_such", "data": {}}), 422)
    assert unknown["errors"] == [
        {"field": "process", "message": "there is no procedure 'no_such' to start"}
    ]
    problem_of(secretariat.post("/instances", None), 415)
    problem_of(secretariat.post("/instances", {"data": {}}), 400)


def test_a_procedure_is_named_by_its_process_id_as_the_document_says(
    people: People, test_diagrams: None, api: Callable[[str], Api]
) -> None:
    secretariat = api("sec")
    start_request = validator(ref("StartRequest"))

    for process in ["", " ", "lane task", "1lane", "x" * 129]:
        assert not start_request.is_valid({"process": process})
        refused = problem_of(secretariat.post("/instances", {"process": process}), 400)
        assert [e["field"] for e in refused["errors"]] == ["process"]

    misspelt = problem_of(secretariat.post("/instances", {"process": "lane_task", "date": {}}), 400)
    assert misspelt["errors"] == [
        {"field": "date", "message": "no such field; send only process, data"}
    ]


def test_an_instance_is_shown_to_those_who_may_see_it(
    people: People, start_lane_task: Callable[..., int], api: Callable[[str], Api]
) -> None:
    instance_id = start_lane_task()

    assert [i["id"] for i in api("sec").get("/instances").get_json()["instances"]] == [instance_id]
    assert api("board-ba").get("/instances").get_json()["instances"] == []
    found = api("sec").get(f"/instances/{instance_id}").get_json()
    assert set(found) >= INSTANCE_FIELDS and found["id"] == instance_id
    problem_of(api("board-ba").get(f"/instances/{instance_id}"), 403)
    problem_of(api("sec").get("/instances/999999"), 404)


def test_a_nul_character_is_refused_or_ignored_not_a_server_error(
    db: Database, people: People, start_lane_task: Callable[..., int], api: Callable[[str], Api]
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = api("sec")

    refused_query = problem_of(secretariat.get("/tasks?partner=%00&q=a%00b"), 400)
    assert refused_query["errors"][0]["field"] == "partner"
    refused_query = problem_of(secretariat.get("/people?organisation=U%00V"), 400)
    assert refused_query["errors"][0] == {
        "field": "organisation",
        "message": "use text without control characters",
    }
    assert problem_of(secretariat.get("/tasks?q=a%00b"), 400)["errors"][0]["field"] == "q"
    data = {"approved": True, "comment": "ready\x00"}
    refused = problem_of(secretariat.post(f"/tasks/{review.id}/complete", {"data": data}), 400)
    assert refused["errors"][0]["field"] == "data/comment"
    problem_of(secretariat.post("/instances", {"process": "lane\x00task"}), 400)


def test_a_refused_answer_with_awkward_numbers_keeps_the_audit_chain_verifiable(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
) -> None:
    # The refused second answer is written to the audit trail as sent; the chain must still
    # verify whatever numbers it holds (PostgreSQL re-renders 1e300 as a 301-digit integer).
    review = task_of(db, start_lane_task(), "review")
    secretariat = api("sec")
    assert (
        secretariat.post(f"/tasks/{review.id}/complete", {"data": GOOD_REVIEW}).status_code == 200
    )
    awkward = {
        "x": 1e300,
        "tiny": 1e-300,
        "tenth": 0.1,
        "minus_zero": -0.0,
        "big": 2**53 - 1,
        "least": -(2**53 - 1),
    }

    problem_of(secretariat.post(f"/tasks/{review.id}/complete", {"data": awkward}), 409)

    with db.session() as session:
        report = verify(session)
        refused = session.scalars(select(AuditEvent).where(AuditEvent.kind == "task.refused")).one()
    assert report.intact, report.reason
    assert refused.payload["data"] == awkward


# Bodies JSON cannot carry exactly, or no database stores as sent; each names its field.
UNFIT_BODIES = {
    "NaN": ('{"data": {"approved": true, "comment": NaN}}', "data/comment"),
    "Infinity": ('{"data": {"approved": true, "comment": "ok", "n": Infinity}}', "data/n"),
    "-Infinity": ('{"data": {"approved": true, "comment": "ok", "n": [-Infinity]}}', "data/n/0"),
    "1e400": ('{"data": {"approved": true, "comment": "ok", "n": 1e400}}', "data/n"),
    "2**60": ('{"data": {"approved": true, "comment": "ok", "n": 1152921504606846976}}', "data/n"),
    "-2**53": ('{"data": {"approved": true, "comment": "ok", "n": -9007199254740992}}', "data/n"),
    "lone surrogate": ('{"data": {"approved": true, "comment": "s\\ud800"}}', "data/comment"),
    "surrogate key": ('{"data": {"approved": true, "comment": "ok", "s\\udc00": 1}}', "data"),
    "100 deep": ('{"data": {"x": ' + "[" * 100 + "]" * 100 + "}}", "body"),
    "5,000 deep": ('{"data": {"x": ' + "[" * 5000 + "]" * 5000 + "}}", "body"),
}


@pytest.mark.parametrize("case", list(UNFIT_BODIES))
def test_a_body_json_cannot_carry_is_refused_naming_the_field_and_nothing_is_written(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    api: Callable[[str], Api],
    case: str,
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = api("sec")
    body, field = UNFIT_BODIES[case]

    def written() -> tuple[int, int]:
        with db.session() as session:
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            instances = session.scalar(select(func.count()).select_from(ProcessInstance))
        return events or 0, instances or 0

    before = written()
    completing = problem_of(secretariat.post_text(f"/tasks/{review.id}/complete", body), 400)
    starting = problem_of(
        secretariat.post_text(
            "/instances", body.replace('{"data"', '{"process": "lane_task", "data"', 1)
        ),
        400,
    )

    assert completing["errors"][0]["field"] == starting["errors"][0]["field"] == field
    assert written() == before
    assert task_of(db, review.instance_id, "review").status == "open"
