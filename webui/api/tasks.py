"""The API's tasks: the caller's open tasks, one task with its form, claim, release, complete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from engine.instances import claim_task, complete_task_or_log_refusal, release_task
from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import ID, BadRequestBody, json_object
from webui.database import app_database, request_session, unit_of_work
from workflows.api_views import (
    my_open_tasks,
    task_data,
    task_detail,
)
from workflows.inbox import inbox_filter


@api.get("/tasks")
def tasks() -> ResponseReturnValue:
    """The caller's open tasks, with the inbox's filters as query parameters."""
    person = api_person()
    found = my_open_tasks(
        request_session(), person.participant, inbox_filter(request.args), datetime.now(UTC)
    )
    return jsonify({"tasks": found})


@api.get(f"/tasks/<{ID}:task_id>")
def task(task_id: int) -> ResponseReturnValue:
    """One task, with its documentation and form schema."""
    person = api_person()
    return jsonify(task_detail(request_session(), person.participant, task_id))


@api.post(f"/tasks/<{ID}:task_id>/claim")
def claim(task_id: int) -> ResponseReturnValue:
    """Claim a task offered to several holders."""
    participant, now = api_person().participant, datetime.now(UTC)

    def work(session: Session) -> dict[str, Any]:
        return task_data(claim_task(session, task_id, participant=participant, now=now))

    return jsonify(unit_of_work(work))


@api.post(f"/tasks/<{ID}:task_id>/release")
def release(task_id: int) -> ResponseReturnValue:
    """Give a claimed task back to everyone who holds its role."""
    participant, now = api_person().participant, datetime.now(UTC)

    def work(session: Session) -> dict[str, Any]:
        return task_data(release_task(session, task_id, participant=participant, now=now))

    return jsonify(unit_of_work(work))


@api.post(f"/tasks/<{ID}:task_id>/complete")
def complete(task_id: int) -> ResponseReturnValue:
    """Complete a task with {"data": {...}}, checked against its form."""
    participant = api_person().participant
    body = json_object()
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequestBody("data", "give the task's answers as a JSON object")
    task = complete_task_or_log_refusal(
        app_database().factory, task_id, data, participant=participant, now=datetime.now(UTC)
    )
    return jsonify(task_data(task))
