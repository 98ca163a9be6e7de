"""Every API answer the tests receive is checked against the OpenAPI document: a status the
operation lists, with the media type and body its schema gives; an address or method the
document does not have, and a failure inside, answer with a problem. So the document and the
API cannot drift."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from webui.api import PREFIX
from webui.api.openapi import PROBLEM, document
from workflows.api.contract import ref


@cache
def _document() -> dict[str, Any]:
    return document()


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema`, whose references name the document's schemas."""
    whole = {**schema, "components": _document()["components"]}
    return Draft202012Validator(whole, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _operation(method: str, path: str) -> dict[str, Any] | None:
    for template, operations in _document()["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    return None


def expected_schema(method: str, path: str, status: int, media_type: str) -> dict[str, Any]:
    """The schema the document gives the answer of `method` on `path` with `status`."""
    operation = _operation(method, path.removeprefix(PREFIX))
    if operation is None or status >= 500:
        # No such operation, or a failure inside (a bug, never listed): still a problem.
        assert media_type == PROBLEM, f"{method} {path} {status} answered {media_type}"
        return ref("Problem")
    answers = operation["responses"]
    assert str(status) in answers, (
        f"{method} {path} answered {status}; the document lists {', '.join(answers)}"
    )
    content = answers[str(status)]["content"]
    assert media_type in content, f"{method} {path} {status} answered {media_type}"
    schema: dict[str, Any] = content[media_type]["schema"]
    return schema


def check_answer(method: str, path: str, status: int, media_type: str, body: Any) -> None:
    """Fail unless an answer under the API is as the document says."""
    wrong = [
        f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in validator(expected_schema(method, path, status, media_type)).iter_errors(body)
    ]
    assert not wrong, f"{method} {path} {status}: {wrong}"


class ContractClient(FlaskClient):
    """A test client that checks every answer under the API against the document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        """The answer, once checked when it comes from the API."""
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(PREFIX + "/") and request.method != "HEAD":
            check_answer(
                request.method,
                request.path,
                response.status_code,
                response.mimetype or "",
                response.get_json(),
            )
        return response
