"""The API's procedures: the catalogue, starting one, the instances the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from engine.errors import NotAllowed, Refused, UnknownProcess
from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import ID, BadRequestBody, json_object, process_id
from webui.database import request_session, unit_of_work
from webui.settings import minimum_notice
from workflows.api.contract import as_json
from workflows.api.views import (
    CancelRequest,
    StartRequest,
    instance_detail,
    processes,
    visible_instances,
)
from workflows.inbox.attaching import start_with_documents
from workflows.procedures.pages import may_start
from workflows.withdrawal.withdraw import withdraw_procedure

START_REFUSAL = (
    "You may not start this procedure: the Secretariat starts procedures, an applicant "
    "starts their own membership application, and a focal point or a Board member proposes "
    "an amendment to a methodology."
)


@api.get("/processes")
def catalogue() -> ResponseReturnValue:
    """Every procedure new instances start on, and whether the caller may start it."""
    return jsonify(as_json(processes(request_session(), api_person().participant)))


@api.post("/instances")
def start() -> ResponseReturnValue:
    """Start a procedure with {"process": ..., "data": {...}}; 201 and the new instance."""
    participant = api_person().participant
    body = json_object(StartRequest)
    process, data = process_id(body.get("process")), body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequestBody("data", "give the start form's fields as a JSON object")
    if not may_start(request_session(), participant, process):
        raise NotAllowed(START_REFUSAL)
    now = datetime.now(UTC)
    try:
        instance_id = unit_of_work(
            lambda s: (
                start_with_documents(s, participant, process, data, now, notice=minimum_notice()).id
            )
        )
    except UnknownProcess as err:
        # The request is well formed; it names a procedure nobody has deployed.
        raise Refused("process", f"there is no procedure '{process}' to start") from err
    found = instance_detail(request_session(), participant, instance_id)
    location = url_for("api.instance", instance_id=instance_id)
    return jsonify(as_json(found)), 201, {"Location": location}


@api.get("/instances")
def instances() -> ResponseReturnValue:
    """The instances the caller may see, newest first."""
    return jsonify(as_json(visible_instances(request_session(), api_person().participant)))


@api.get(f"/instances/<{ID}:instance_id>")
def instance(instance_id: int) -> ResponseReturnValue:
    """One instance: its status, open tasks and history."""
    return jsonify(
        as_json(instance_detail(request_session(), api_person().participant, instance_id))
    )


@api.post(f"/instances/<{ID}:instance_id>/cancel")
def cancel(instance_id: int) -> ResponseReturnValue:
    """Withdraw a running procedure with {"reason": ...}; the instance as it then stands."""
    participant = api_person().participant
    reason = json_object(CancelRequest).get("reason", "")
    if not isinstance(reason, str):
        raise BadRequestBody("reason", "give the reason as text")
    now = datetime.now(UTC)
    unit_of_work(lambda s: withdraw_procedure(s, participant, instance_id, reason, now))
    return jsonify(as_json(instance_detail(request_session(), participant, instance_id)))
