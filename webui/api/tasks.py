"""The API's tasks: the caller's open tasks, one task with its form, claim, release, complete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from engine.instances.claims import claim_task, release_task
from engine.instances.steps import complete_task_or_log_refusal
from models import HumanTask
from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import ID, BadRequestBody, json_object
from webui.database import app_database, request_session, unit_of_work
from webui.settings import minimum_notice
from workflows.api.contract import as_json
from workflows.api.views import CompleteRequest, my_open_tasks, task_data, task_detail
from workflows.inbox.filters import inbox_filter


@api.get("/tasks")
def tasks() -> ResponseReturnValue:
    """The caller's open tasks, with the inbox's filters as query parameters."""
    person = api_person()
    found = my_open_tasks(
        request_session(), person.participant, inbox_filter(request.args), datetime.now(UTC)
    )
    return jsonify(as_json(found))


@api.get(f"/tasks/<{ID}:task_id>")
def task(task_id: int) -> ResponseReturnValue:
    """One task, with its documentation and form schema."""
    person = api_person()
    return jsonify(as_json(task_detail(request_session(), person.participant, task_id)))


def _change_claim(task_id: int, change: Callable[..., HumanTask]) -> ResponseReturnValue:
    """Claim or release in one unit of work, as the caller; the task as it then stands."""
    participant, now = api_person().participant, datetime.now(UTC)
    changed = unit_of_work(lambda s: change(s, task_id, participant=participant, now=now))
    return jsonify(as_json(task_data(changed)))


@api.post(f"/tasks/<{ID}:task_id>/claim")
def claim(task_id: int) -> ResponseReturnValue:
    """Claim a task offered to several holders."""
    return _change_claim(task_id, claim_task)


@api.post(f"/tasks/<{ID}:task_id>/release")
def release(task_id: int) -> ResponseReturnValue:
    """Give a claimed task back to everyone who holds its role."""
    return _change_claim(task_id, release_task)


@api.post(f"/tasks/<{ID}:task_id>/complete")
def complete(task_id: int) -> ResponseReturnValue:
    """Complete a task with {"data": {...}}, checked against its form."""
    participant = api_person().participant
    data = json_object(CompleteRequest).get("data", {})
    if not isinstance(data, dict):
        raise BadRequestBody("data", "give the task's answers as a JSON object")
    task = complete_task_or_log_refusal(
        app_database().factory,
        task_id,
        data,
        participant=participant,
        now=datetime.now(UTC),
        notice=minimum_notice(),
    )
    return jsonify(as_json(task_data(task)))
