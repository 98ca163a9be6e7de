"""What the API's own views refuse, as problem+json: a body that is not what the operation
takes, something that does not exist for the caller, a task someone else claimed."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from webui.api.blueprint import bp as api
from webui.api.problems import problem
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
    """The request's JSON body as an object; BadRequestBody when it is anything else."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequestBody("body", "send a JSON object with Content-Type: application/json")
    if _holds_nul(body):
        # PostgreSQL stores no NUL character in text or JSON; no form asks for one.
        raise BadRequestBody("body", "text may not contain the NUL character (\\u0000)")
    return body


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


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
