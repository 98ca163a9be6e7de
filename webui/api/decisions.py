"""The API's decision register: every Board decision, and one with each seat's answer."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import ID
from webui.database import request_session
from workflows.api.contract import as_json
from workflows.api.views import decision_detail, decisions


@api.get("/decisions")
def register() -> ResponseReturnValue:
    """The decision register, the newest first."""
    return jsonify(as_json(decisions(request_session(), api_person().participant)))


@api.get(f"/decisions/<{ID}:decision_id>")
def decision(decision_id: int) -> ResponseReturnValue:
    """One decision, with each seat's answer or silence once it is closed."""
    return jsonify(
        as_json(decision_detail(request_session(), api_person().participant, decision_id))
    )
