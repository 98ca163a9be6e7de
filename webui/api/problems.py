"""Errors under /api/v1 as RFC 9457 problem details: a status, a title and plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from flask import Blueprint, Response, current_app, json
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    ClaimedByOther,
    ConcurrentUpdate,
    EngineError,
    FormInvalid,
    NotAllowed,
    ProcedureEnded,
    Refused,
    StepFailed,
    TaskAlreadyDone,
    TaskNotFound,
    UnknownProcess,
)
from webui.database import app_database
from workflows.api.contract import as_json, described
from workflows.procedures.step_failures import report_step_failure

MEDIA_TYPE = "application/problem+json"
# The title of a 400 for data that fits the OpenAPI document but not the task's own form.
FORM_MISFIT = "The data does not fit the form"

# The title and the words said when nothing more particular is known.
PLAIN_WORDS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood; check its JSON and fields."),
    401: (
        "Not authenticated",
        "Send a personal access token as 'Authorization: Bearer <token>'; "
        "create one on the 'API tokens' page of your account.",
    ),
    403: ("Not allowed", "Your roles do not allow this."),
    404: ("Not found", "There is no such resource; check the address and the id."),
    405: (
        "Method not allowed",
        "This address does not take that method; see /api/v1/openapi.json.",
    ),
    409: ("Conflict", "Someone has already done this; nothing was changed."),
    422: ("Refused", "The request breaks a rule of the procedure; nothing was changed."),
    413: (
        "Request too large",
        "The request body is larger than this server accepts; nothing was changed.",
    ),
    415: (
        "Unsupported media type",
        "Send the request body as JSON (Content-Type: application/json).",
    ),
    429: (
        "Too many requests",
        "This token has made more requests than allowed; wait as long as Retry-After says.",
    ),
    500: (
        "Internal server error",
        "The server ran into a problem it did not expect; nothing was saved. Try again in a "
        "moment; if it keeps happening, tell the Secretariat.",
    ),
}


_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


@dataclass
class FieldError:
    """Which field or query parameter is wrong, and why."""

    field: str
    message: str


@dataclass
class Problem:
    """RFC 9457 problem details, with a plain-words detail."""

    type: str
    status: int
    title: str
    detail: str
    errors: Annotated[
        list[FieldError] | None,
        described("Which field or query parameter is wrong and why (400, 413, 422)"),
    ] = None


def problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    """A problem+json response: `status`, `title`, `detail`, and the fields at fault if any."""
    default_title, default_detail = PLAIN_WORDS.get(status, ("Error", "The request failed."))
    body = Problem("about:blank", status, title or default_title, detail or default_detail, errors)
    return current_app.response_class(json.dumps(as_json(body)), status=status, mimetype=MEDIA_TYPE)


def _sentence(err: Exception | str) -> str:
    text = str(err).strip()
    return text[:1].upper() + text[1:]


def engine_error_response(err: EngineError) -> Response:
    """The problem an engine error is for the API: 400, 403, 404, 409 or 422 (500 otherwise)."""
    if isinstance(err, Refused):
        return problem(
            422,
            "Refused",
            " ".join(_sentence(m).rstrip(".") + "." for m in err.errors.values())
            + " Nothing was saved.",
            errors=[FieldError(field, reason) for field, reason in err.errors.items()],
        )
    if isinstance(err, FormInvalid):
        return problem(
            400,
            FORM_MISFIT,
            "Some fields are missing or wrong; see 'errors' for which and why. Nothing was saved.",
            errors=[FieldError(field, reason) for field, reason in err.errors.items()],
        )
    if isinstance(err, ClaimedByOther):
        return problem(409, "Claimed by someone else", _sentence(err) + " Nothing was changed.")
    if isinstance(err, NotAllowed):
        return problem(403, "Not allowed", _sentence(err))
    if isinstance(err, TaskNotFound | UnknownProcess):
        return problem(404, "Not found", _sentence(err))
    if isinstance(err, ProcedureEnded):
        return problem(409, "Already ended", _sentence(err))
    if isinstance(err, TaskAlreadyDone):
        return problem(409, "Already done", _sentence(err))
    if isinstance(err, ConcurrentUpdate):
        return problem(409, "Changed by someone else", _sentence(err) + " Try again.")
    if isinstance(err, StepFailed):
        # A bug of the methodology, logged in full by the engine: the Secretariat is told.
        report_step_failure(app_database().factory, err, now=datetime.now(UTC))
        return problem(
            500,
            "The procedure could not go on",
            f"{_sentence(err).rstrip('.')}. Nothing was saved. The Secretariat, who keep the "
            "methodology, have been told: try again once they have put it right.",
        )
    current_app.logger.error("the engine refused an API request: %s", err, exc_info=err)
    return problem(
        500,
        "The procedure could not go on",
        f"{_sentence(err).rstrip('.')}. Nothing was saved. Tell the Secretariat, who keep the "
        "methodology.",
    )


def http_error_response(err: HTTPException) -> Response:
    """An HTTP error as a problem; Werkzeug's stock descriptions give way to plain words."""
    status = err.code or 500
    custom = err.description if err.description != type(err).description else None
    if status >= 500:
        custom = None  # never show what failed inside
    elif status == 429:
        # Flask-Limiter describes the limit itself ("120 per 1 minute"): say it in a sentence.
        custom = f"{PLAIN_WORDS[429][1]} The limit is {err.description}."
    response = problem(status, detail=custom)
    # Headers the raiser meant to send (Allow, Retry-After, WWW-Authenticate) still go.
    for name, value in err.get_headers():
        if name.lower() in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def _csrf(_err: CSRFError) -> Response:
    return problem(400)


def register(bp: Blueprint) -> None:
    """Answer every error of the blueprint's views with a problem."""
    bp.register_error_handler(CSRFError, _csrf)
    bp.register_error_handler(HTTPException, http_error_response)
    bp.register_error_handler(EngineError, engine_error_response)
    for kind in (
        Refused,
        FormInvalid,
        ClaimedByOther,
        NotAllowed,
        TaskNotFound,
        UnknownProcess,
        TaskAlreadyDone,
    ):
        bp.register_error_handler(kind, engine_error_response)
    bp.register_error_handler(ConcurrentUpdate, engine_error_response)
