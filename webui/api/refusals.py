"""What the API's own views refuse, as problem+json: a body that is not what the operation
takes, something that does not exist for the caller, a task someone else claimed."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from webui.api.blueprint import bp as api
from webui.api.problems import problem
from webui.json_body import UnfitBody, read_json_body
from workflows.access import NoAccess
from workflows.api_views import NoSuchThing

# Ids in the path: positive and within the database's integer, else the route does not match.
ID = "int(min=1, max=2147483647)"


class BadRequestBody(Exception):
    """The request body is not what the operation takes; `field` says where."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def json_object() -> dict[str, Any]:
    """The request's JSON body as an object, read strictly (webui/json_body.py); BadRequestBody
    naming the field when it is anything else. Every API operation with a body reads it here."""
    if not request.is_json:
        raise BadRequestBody("body", "send a JSON object with Content-Type: application/json")
    try:
        body = read_json_body(request.get_data(cache=True))
    except UnfitBody as err:
        raise BadRequestBody(err.field, err.message) from err
    if not isinstance(body, dict):
        raise BadRequestBody("body", "send a JSON object with Content-Type: application/json")
    return body


@api.errorhandler(BadRequestBody)
def _bad_body(err: BadRequestBody) -> ResponseReturnValue:
    return problem(
        400,
        "The request body is not valid",
        f"{err.field}: {err.message}.",
        errors=[{"field": err.field, "message": err.message}],
    )


@api.errorhandler(NoSuchThing)
def _no_such_thing(err: NoSuchThing) -> ResponseReturnValue:
    return problem(404, "Not found", str(err))


@api.errorhandler(NoAccess)
def _no_access(err: NoAccess) -> ResponseReturnValue:
    return problem(403, "Not allowed", str(err))
