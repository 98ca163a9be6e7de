"""The query parameters each API operation takes, described once: the OpenAPI document lists
them from here, and a before-request hook refuses any other parameter, and any value outside
them, with a 400 that names the parameter and what it takes (never a silent fall-back)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import request

from webui.api.blueprint import bp as api
from webui.api.refusals import BadQuery
from workflows.api.views import PROCESS_ID_MAX_CHARS, PROCESS_ID_PATTERN, PROCESS_ID_WORDS
from workflows.inbox.filters import SEARCH_MAX_CHARS, SORTS, STATES
from workflows.people.management import ROLE_KINDS
from workflows.people.roles import PILLARS

# Text a person can type: no control characters (a NUL, say, which PostgreSQL cannot even hold
# in a string to compare with).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
# An organisation's code, as the register keeps it (AL, EEAS, INTERPOL, ...).
CODE_PATTERN = r"^([A-Z0-9][A-Z0-9_-]{0,31})?$"
CODE_WORDS = "use an organisation's code, in capitals, like AL or EEAS"


@dataclass(frozen=True)
class QueryParameter:
    """One optional query parameter: its words, and the values it takes."""

    name: str
    description: str
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    pattern: str | None = None
    pattern_words: str = ""

    def openapi(self) -> dict[str, Any]:
        """The parameter as the OpenAPI document describes it."""
        schema: dict[str, Any] = {"type": "string"}
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        elif not self.choices:
            schema["pattern"] = NO_CONTROL_CHARACTERS
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
        }

    def refusal(self, value: str) -> str | None:
        """Why `value` is not one this parameter takes, in words; None when it is."""
        if not re.search(NO_CONTROL_CHARACTERS, value):
            return "use text without control characters"
        if self.choices and value not in self.choices:
            return "use one of: " + ", ".join(self.choices)
        if self.max_length is not None and len(value) > self.max_length:
            return f"use at most {self.max_length} characters"
        if self.pattern is not None and not re.search(self.pattern, value):
            return self.pattern_words
        return None


TASK_FILTERS = (
    QueryParameter(
        "procedure",
        "Only tasks of this BPMN process id",
        max_length=PROCESS_ID_MAX_CHARS,
        pattern=PROCESS_ID_PATTERN,
        pattern_words=PROCESS_ID_WORDS,
    ),
    QueryParameter("pillar", "Only tasks of this pillar", tuple(PILLARS)),
    QueryParameter(
        "partner",
        "Only tasks of this partner (Board seat code)",
        max_length=32,
        pattern=CODE_PATTERN,
        pattern_words=CODE_WORDS,
    ),
    QueryParameter("state", "All open tasks, or the overdue ones only", tuple(STATES)),
    QueryParameter("q", "Words in the task's or the procedure's name", max_length=SEARCH_MAX_CHARS),
    QueryParameter("sort", "The order", tuple(SORTS)),
    QueryParameter("whose", "Everyone's tasks (the Secretariat only)", ("everyone",)),
)

PEOPLE_FILTERS = (
    QueryParameter("role", "Only people holding this role", tuple(ROLE_KINDS)),
    QueryParameter(
        "organisation",
        "Only people of this organisation (its code)",
        max_length=32,
        pattern=CODE_PATTERN,
        pattern_words=CODE_WORDS,
    ),
    QueryParameter(
        "active", "Only active people (true) or deactivated ones (false)", ("true", "false")
    ),
)

# By the view's endpoint; an operation not named here takes no query parameters.
QUERIES: dict[str, tuple[QueryParameter, ...]] = {
    "api.tasks": TASK_FILTERS,
    "api.people": PEOPLE_FILTERS,
}


def query_parameters(endpoint: str) -> list[dict[str, Any]]:
    """The query parameters of the operation served by `endpoint`, for the document."""
    return [parameter.openapi() for parameter in QUERIES.get(endpoint, ())]


@api.before_request
def check_query() -> None:
    """Refuse a request whose query names a parameter the operation does not take, or gives
    one a value it does not take, or gives it twice."""
    parameters = QUERIES.get(request.endpoint or "", ())
    names = [parameter.name for parameter in parameters]
    for name in request.args:
        if name not in names:
            # A misspelt filter would otherwise list everything without a word.
            taken = "; it takes " + ", ".join(names) if names else "; it takes none"
            raise BadQuery(name[:64], "this operation has no such query parameter" + taken)
    for parameter in parameters:
        values = request.args.getlist(parameter.name)
        if len(values) > 1:
            raise BadQuery(parameter.name, "give this parameter once")
        reason = parameter.refusal(values[0]) if values else None
        if reason is not None:
            raise BadQuery(parameter.name, reason)
