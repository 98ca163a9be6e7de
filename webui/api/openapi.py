"""The OpenAPI 3.1 document of /api/v1, served at GET /api/v1/openapi.json (no token)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from webui.api.blueprint import PREFIX
from webui.api.blueprint import bp as api
from webui.api.problems import Problem
from webui.api.queries import query_parameters
from workflows.api.contract import json_schemas, ref
from workflows.api.people import NewPerson, Person, PersonList, PersonPatch
from workflows.api.views import (
    FORM_SCHEMAS,
    CancelRequest,
    CompleteRequest,
    Decision,
    DecisionList,
    Document,
    Instance,
    InstanceList,
    Me,
    ProcessList,
    StartRequest,
    Task,
    TaskDetail,
    TaskList,
)
from workflows.inbox.documents import ACCEPTED, KINDS

PROBLEM = "application/problem+json"
MAX_ID = 2147483647

# The shapes the operations below send or take, as they name them.
_SHAPES: list[type] = [Problem]


def _shape(shape: type) -> dict[str, str]:
    _SHAPES.append(shape)
    return ref(shape.__name__)


def _json(shape: type, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _shape(shape)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": ref("Problem")}}}


_COMMON = {
    "401": _problem("No valid token"),
    "429": _problem("Too many requests for this token"),
}
_NOT_FOUND = {"404": _problem("No such thing")}
_FORBIDDEN = {"403": _problem("The caller's roles do not allow it")}
_BAD = {
    "400": _problem("The body or data is not valid; `errors` says which field and why"),
    "422": _problem(
        "The data breaks a rule of the procedure (e.g. a deadline sooner than the minimum "
        "notice); `errors` says which field and why"
    ),
}
_CONFLICT = {"409": _problem("Already done, or claimed by someone else")}
_TOO_LARGE = {"413": _problem("The request body is too large")}
_NOT_JSON = {"415": _problem("The request body is not sent as application/json")}
_REFUSED = {
    "422": _problem("A rule of the procedure refuses it; `errors` says which field and why")
}
_BAD_QUERY = {"400": _problem("A query parameter's value is not one it takes; `errors` names it")}


# Each media type a document is served as (without its charset), for GET /documents/{id}.
DOCUMENT_MEDIA_TYPES = sorted({kind.content_type.split(";")[0] for kind in KINDS.values()})
_FILE_REFUSED = {
    "400": _problem("No file was sent in the field `file`"),
    "413": _problem("The file is larger than the server accepts; `errors` names `file`"),
    "422": _problem(
        "The file is empty, of a type the procedures do not accept, or its content is not what "
        "its name says; `errors` names `file`"
    ),
}


def _upload_operation() -> dict[str, Any]:
    return {
        "operationId": "uploadDocument",
        "summary": (
            "Upload a file to launch a Board decision with (the Secretariat); name its id in "
            "the `documents` of silent_procedure's or board_decision's start data"
        ),
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": f"The file, one of: {ACCEPTED}",
                            }
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {
                **_json(Document, "Uploaded: its id, name, media type, size and SHA-256"),
                "headers": {
                    "Location": {"description": "The document", "schema": {"type": "string"}}
                },
            },
            **_FILE_REFUSED,
            **_FORBIDDEN,
            **_COMMON,
        },
    }


def _download_operation() -> dict[str, Any]:
    return {
        "operationId": "getDocument",
        "summary": (
            "A document's bytes, for those who may see its procedure (and, before a start "
            "attaches it, for its uploader alone)"
        ),
        "parameters": [_id("document_id")],
        "responses": {
            "200": {
                "description": "The file, as an attachment under its name; ETag is its SHA-256",
                "content": {media_type: {"schema": {}} for media_type in DOCUMENT_MEDIA_TYPES},
            },
            "404": _problem("No such document, or not one the caller may see"),
            **_COMMON,
        },
    }


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


_USERNAME = {
    "name": "username",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: type | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {**responses, **_COMMON},
    }
    if parameters:
        found["parameters"] = parameters
    if body:
        found["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _shape(body)}},
        }
        found["responses"].update({**_BAD, **_TOO_LARGE, **_NOT_JSON})
    return found


def _task_change(
    operation_id: str,
    summary: str,
    body: type | None = None,
    refused: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "post": _operation(
            operation_id,
            summary,
            {"200": _json(Task), **_FORBIDDEN, **_NOT_FOUND, **_CONFLICT, **(refused or {})},
            parameters=[_id("task_id")],
            body=body,
        )
    }


PATHS: dict[str, Any] = {
    "/tasks": {
        "get": _operation(
            "listTasks",
            "The caller's open tasks, with the inbox's filters",
            {"200": _json(TaskList), **_BAD_QUERY, **_FORBIDDEN},
            parameters=query_parameters("api.tasks"),
        )
    },
    "/tasks/{task_id}": {
        "get": _operation(
            "getTask",
            "One task with its form schema",
            {"200": _json(TaskDetail), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("task_id")],
        )
    },
    "/tasks/{task_id}/claim": _task_change("claimTask", "Claim a task offered to several people"),
    "/tasks/{task_id}/release": _task_change("releaseTask", "Give a claimed task back"),
    "/tasks/{task_id}/complete": _task_change(
        "completeTask", "Complete a task with the form's data", CompleteRequest, _REFUSED
    ),
    "/processes": {
        "get": _operation("listProcesses", "The catalogue", {"200": _json(ProcessList)})
    },
    "/instances": {
        "get": _operation(
            "listInstances", "The instances the caller may see", {"200": _json(InstanceList)}
        ),
        "post": _operation(
            "startInstance",
            "Start a procedure",
            {
                "201": {
                    **_json(Instance, "Started"),
                    "headers": {
                        "Location": {
                            "description": "The new instance",
                            "schema": {"type": "string"},
                        }
                    },
                },
                **_FORBIDDEN,
                **_REFUSED,
            },
            body=StartRequest,
        ),
    },
    "/instances/{instance_id}": {
        "get": _operation(
            "getInstance",
            "One instance: status, open tasks, history",
            {"200": _json(Instance), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("instance_id")],
        )
    },
    "/instances/{instance_id}/cancel": {
        "post": _operation(
            "cancelInstance",
            "Withdraw a running procedure, with a reason (the Secretariat; an applicant their "
            "own membership application)",
            {
                "200": _json(Instance, "Withdrawn: the instance, now cancelled"),
                **_FORBIDDEN,
                **_NOT_FOUND,
                "409": _problem("The procedure has ended already (completed or withdrawn)"),
                **_REFUSED,
            },
            parameters=[_id("instance_id")],
            body=CancelRequest,
        )
    },
    "/decisions": {
        "get": _operation(
            "listDecisions", "The decision register", {"200": _json(DecisionList), **_FORBIDDEN}
        )
    },
    "/decisions/{decision_id}": {
        "get": _operation(
            "getDecision",
            "One decision with each seat's answer or silence",
            {"200": _json(Decision), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("decision_id")],
        )
    },
    "/documents": {"post": _upload_operation()},
    "/documents/{document_id}": {"get": _download_operation()},
    "/me": {"get": _operation("getMe", "Whom the token acts as", {"200": _json(Me)})},
    "/people": {
        "get": _operation(
            "listPeople",
            "People with their organisation and roles (the Secretariat)",
            {"200": _json(PersonList), **_BAD_QUERY, **_FORBIDDEN},
            parameters=query_parameters("api.people"),
        ),
        "post": _operation(
            "invitePerson",
            "Invite a person: their account, and a mail with a link to set their password",
            {
                "201": {
                    **_json(Person, "Invited"),
                    "headers": {
                        "Location": {"description": "The person", "schema": {"type": "string"}}
                    },
                },
                **_FORBIDDEN,
                **_REFUSED,
            },
            body=NewPerson,
        ),
    },
    "/people/{username}": {
        "get": _operation(
            "getPerson",
            "One person (the Secretariat)",
            {"200": _json(Person), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_USERNAME],
        ),
        "patch": _operation(
            "changePerson",
            "Change a person's name, address, organisation, roles or access (the Secretariat)",
            {"200": _json(Person), **_FORBIDDEN, **_NOT_FOUND, **_REFUSED},
            parameters=[_USERNAME],
            body=PersonPatch,
        ),
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "429": _problem("Too many requests from this address"),
            },
        }
    },
}

# Every shape the API sends or takes, and every shape within them, from their dataclasses.
SCHEMAS: dict[str, Any] = json_schemas(*_SHAPES) | FORM_SCHEMAS


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of everything under /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IISG Procedures API",
            "version": "1",
            "description": (
                "What the inbox does, without a browser. Send a personal access token as "
                "'Authorization: Bearer <token>'; a token acts with its user's roles. "
                "Errors are application/problem+json (RFC 9457)."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerToken": []}],
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": PATHS,
    }


@api.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI document; needs no token."""
    return jsonify(document())
