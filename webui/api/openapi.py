"""The OpenAPI 3.1 document of /api/v1, served at GET /api/v1/openapi.json (no token)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from webui.api.blueprint import PREFIX
from webui.api.blueprint import bp as api
from webui.api.queries import query_parameters
from webui.api.refusals import PROCESS_ID_MAX_CHARS, PROCESS_ID_PATTERN

PROBLEM = "application/problem+json"
MAX_ID = 2147483647

_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_MAYBE_TEXT = {"type": ["string", "null"]}
# Text the database can store: anything but the NUL character.
_STORABLE_TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}
_PROCESS_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": PROCESS_ID_MAX_CHARS,
    "pattern": PROCESS_ID_PATTERN,
    "description": "BPMN process id, as GET /processes lists them",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, extra: bool = True) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    if not extra:
        found["additionalProperties"] = False
    return found


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details, with a plain-words detail.",
        "required": ["type", "status", "title", "detail"],
        "properties": {
            "type": {"type": "string"},
            "status": {"type": "integer"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Which field or query parameter is wrong and why (400, 422).",
                "items": _object({"field": {"type": "string"}, "message": {"type": "string"}}),
            },
        },
    },
    "Scope": _object(
        {
            "partner": {**_MAYBE_TEXT, "description": "Partner (Board seat) code"},
            "pillar": _MAYBE_TEXT,
            "assignee": {**_MAYBE_TEXT, "description": "The one user the task is for"},
        }
    ),
    "Task": _object(
        {
            "id": {"type": "integer"},
            "instance_id": {"type": "integer"},
            "process": {"type": "string", "description": "BPMN process id"},
            "name": {"type": "string"},
            "role": {"type": "string"},
            "scope": _ref("Scope"),
            "claimed_by": _MAYBE_TEXT,
            "due_at": _MAYBE_TIME,
            "status": {"type": "string", "enum": ["open", "completed", "withdrawn"]},
        }
    ),
    "TaskDetail": {
        "allOf": [
            _ref("Task"),
            _object(
                {
                    "documentation": {"type": "string"},
                    "form": {
                        "type": ["object", "null"],
                        "description": "The JSON Schema the data must satisfy",
                    },
                }
            ),
        ]
    },
    "TaskList": _object({"tasks": {"type": "array", "items": _ref("Task")}}),
    "FormValue": {
        "description": "A value of a form's field: JSON whose text holds no NUL character",
        "anyOf": [
            _STORABLE_TEXT,
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": _ref("FormValue")},
            _ref("FormData"),
        ],
    },
    "FormData": {
        "type": "object",
        "description": (
            "A form's fields. The form itself (GET /tasks/{task_id} gives a task's JSON "
            "Schema) says which are required and what they take: data that does not fit it "
            "is refused with 400 and `errors`."
        ),
        "propertyNames": _STORABLE_TEXT,
        "additionalProperties": _ref("FormValue"),
    },
    "CompleteRequest": {
        "type": "object",
        "properties": {"data": _ref("FormData")},
        "additionalProperties": False,
    },
    "Process": _object(
        {
            "process": {"type": "string", "description": "BPMN process id"},
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "description": {"type": "string"},
            "may_start": {"type": "boolean"},
        }
    ),
    "ProcessList": _object({"processes": {"type": "array", "items": _ref("Process")}}),
    "StartRequest": {
        "type": "object",
        "required": ["process"],
        "properties": {
            "process": _PROCESS_ID,
            "data": _ref("FormData"),
        },
        "additionalProperties": False,
    },
    "InstanceSummary": _object(
        {
            "id": {"type": "integer"},
            "process": {"type": "string"},
            "version": {"type": "integer"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": ["running", "completed", "cancelled", "error"]},
            "started_at": _TIME,
            "ended_at": _MAYBE_TIME,
        }
    ),
    "Instance": {
        "allOf": [
            _ref("InstanceSummary"),
            _object(
                {
                    "open_tasks": {"type": "array", "items": _ref("Task")},
                    "history": {
                        "type": "array",
                        "items": _object({"at": _TIME, "event": {"type": "string"}}),
                    },
                }
            ),
        ]
    },
    "InstanceList": _object({"instances": {"type": "array", "items": _ref("InstanceSummary")}}),
    "Answer": _object(
        {
            "seat": {"type": "string"},
            "answer": {"type": "string", "enum": ["no_objection", "objection", "silence"]},
            "silence": {"type": "boolean", "description": "The seat did not answer in time"},
            "reason": _MAYBE_TEXT,
            "who": _MAYBE_TEXT,
            "when": _MAYBE_TIME,
        }
    ),
    "Decision": _object(
        {
            "id": {"type": "integer"},
            "instance_id": {"type": ["integer", "null"]},
            "method": {"type": "string", "enum": ["silent_procedure", "meeting"]},
            "subject": {"type": "string"},
            "text_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "launched_at": _TIME,
            "deadline": _MAYBE_TIME,
            "closed_at": _MAYBE_TIME,
            "outcome": {
                "type": ["string", "null"],
                "enum": ["adopted", "not_adopted", None],
                "description": "null while the Board is deciding",
            },
            "answers": {
                "type": "array",
                "description": "Each seat's answer or silence, recorded when the decision closes",
                "items": _ref("Answer"),
            },
        }
    ),
    "Me": _object(
        {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "roles": {
                "type": "array",
                "items": _object(
                    {"role": {"type": "string"}, "organisation": _MAYBE_TEXT, "pillar": _MAYBE_TEXT}
                ),
            },
        }
    ),
    "DecisionList": _object({"decisions": {"type": "array", "items": _ref("Decision")}}),
}


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


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


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
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
            "content": {"application/json": {"schema": _ref(body)}},
        }
        found["responses"].update({**_BAD, **_TOO_LARGE, **_NOT_JSON})
    return found


def _task_change(
    operation_id: str,
    summary: str,
    body: str | None = None,
    refused: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "post": _operation(
            operation_id,
            summary,
            {"200": _json("Task"), **_FORBIDDEN, **_NOT_FOUND, **_CONFLICT, **(refused or {})},
            parameters=[_id("task_id")],
            body=body,
        )
    }


PATHS: dict[str, Any] = {
    "/tasks": {
        "get": _operation(
            "listTasks",
            "The caller's open tasks, with the inbox's filters",
            {"200": _json("TaskList"), **_BAD_QUERY, **_FORBIDDEN},
            parameters=query_parameters("api.tasks"),
        )
    },
    "/tasks/{task_id}": {
        "get": _operation(
            "getTask",
            "One task with its form schema",
            {"200": _json("TaskDetail"), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("task_id")],
        )
    },
    "/tasks/{task_id}/claim": _task_change("claimTask", "Claim a task offered to several people"),
    "/tasks/{task_id}/release": _task_change("releaseTask", "Give a claimed task back"),
    "/tasks/{task_id}/complete": _task_change(
        "completeTask", "Complete a task with the form's data", "CompleteRequest", _REFUSED
    ),
    "/processes": {
        "get": _operation("listProcesses", "The catalogue", {"200": _json("ProcessList")})
    },
    "/instances": {
        "get": _operation(
            "listInstances", "The instances the caller may see", {"200": _json("InstanceList")}
        ),
        "post": _operation(
            "startInstance",
            "Start a procedure",
            {
                "201": {
                    **_json("Instance", "Started"),
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
            body="StartRequest",
        ),
    },
    "/instances/{instance_id}": {
        "get": _operation(
            "getInstance",
            "One instance: status, open tasks, history",
            {"200": _json("Instance"), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("instance_id")],
        )
    },
    "/decisions": {
        "get": _operation(
            "listDecisions", "The decision register", {"200": _json("DecisionList"), **_FORBIDDEN}
        )
    },
    "/decisions/{decision_id}": {
        "get": _operation(
            "getDecision",
            "One decision with each seat's answer or silence",
            {"200": _json("Decision"), **_FORBIDDEN, **_NOT_FOUND},
            parameters=[_id("decision_id")],
        )
    },
    "/me": {"get": _operation("getMe", "Whom the token acts as", {"200": _json("Me")})},
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
