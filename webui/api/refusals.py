"""What the API's own views refuse, as problem+json: a body that is not what the operation
takes, something that does not exist for the caller, a task someone else claimed."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import UnsupportedMediaType

from webui.api.blueprint import bp as api
from webui.api.problems import FieldError, problem
from webui.json_body import UnfitBody, read_json_body
from workflows.api.views import PROCESS_ID_MAX_CHARS, PROCESS_ID_PATTERN, PROCESS_ID_WORDS
from workflows.refusals import NoAccess, NoSuchThing

# Ids in the path: positive and within the database's integer, else the route does not match.
ID = "int(min=1, max=2147483647)"


class BadRequestBody(Exception):
    """The request body is not what the operation takes; `field` says where."""

    title = "The request body is not valid"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class BadQuery(BadRequestBody):
    """A query parameter has a value the operation does not take; `field` names it."""

    title = "A query parameter is not valid"


def json_object(shape: type[Any]) -> dict[str, Any]:
    """The request's JSON body, an object of some of the fields of `shape`, read strictly
    (webui/json_body.py); 415 when it is not sent as JSON, BadRequestBody naming the field
    when it is anything else. Every API operation with a body reads it here."""
    if not request.is_json:
        raise UnsupportedMediaType()
    try:
        body = read_json_body(request.get_data(cache=True))
    except UnfitBody as err:
        raise BadRequestBody(err.field, err.message) from err
    if not isinstance(body, dict):
        raise BadRequestBody("body", "send a JSON object with Content-Type: application/json")
    names = [part.name for part in fields(shape)]
    for name in body:
        if name not in names:
            # A misspelt field would otherwise be dropped without a word.
            raise BadRequestBody(str(name)[:64], "no such field; send only " + ", ".join(names))
    return body


def process_id(value: Any) -> str:
    """`value` as a BPMN process id; BadRequestBody naming `process` when it is not one."""
    if (
        not isinstance(value, str)
        or len(value) > PROCESS_ID_MAX_CHARS
        or not re.search(PROCESS_ID_PATTERN, value)
    ):
        raise BadRequestBody("process", PROCESS_ID_WORDS)
    return value


@api.errorhandler(BadRequestBody)
def _bad_body(err: BadRequestBody) -> ResponseReturnValue:
    return problem(
        400,
        err.title,
        f"{err.field}: {err.message}.",
        errors=[FieldError(err.field, err.message)],
    )


@api.errorhandler(NoSuchThing)
def _no_such_thing(err: NoSuchThing) -> ResponseReturnValue:
    return problem(404, "Not found", str(err))


@api.errorhandler(NoAccess)
def _no_access(err: NoAccess) -> ResponseReturnValue:
    return problem(403, "Not allowed", str(err))
