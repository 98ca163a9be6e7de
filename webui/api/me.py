"""`GET /api/v1/me`: whom the token acts as, so a client can check its token."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from webui.api.auth import api_person
from webui.api.blueprint import bp
from workflows.api.contract import as_json
from workflows.api.views import whoami


@bp.get("/me")
def me() -> ResponseReturnValue:
    """The token's user: user name, name shown, and the roles they hold (with scope)."""
    person = api_person()
    return jsonify(as_json(whoami(person.username, person.display_name, person.participant)))
