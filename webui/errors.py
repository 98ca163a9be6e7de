"""Error pages in plain words, for HTTP errors and for what the engine refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    ConcurrentUpdate,
    EngineError,
    FormInvalid,
    NotAllowed,
    ProcedureEnded,
    StepFailed,
    TaskAlreadyDone,
    TaskNotFound,
)
from webui.api.blueprint import PREFIX as API_PREFIX
from webui.api.problems import http_error_response
from webui.database import app_database
from workflows.procedures.step_failures import report_step_failure

CSRF_MESSAGE = lazy_gettext(
    "This form has expired or was not sent from this site. Go back, reload the page and try again."
)

PLAIN_WORDS: dict[int, tuple[LazyString, LazyString]] = {
    400: (
        lazy_gettext("This request could not be understood"),
        lazy_gettext("Go back, reload the page and try again."),
    ),
    403: (lazy_gettext("Not allowed"), lazy_gettext("You may not open this page with your roles.")),
    404: (
        lazy_gettext("Not found"),
        lazy_gettext("There is no such page. Check the address, or start from your inbox."),
    ),
    405: (
        lazy_gettext("Not possible here"),
        lazy_gettext("This page cannot be used that way. Start from your inbox."),
    ),
    409: (
        lazy_gettext("Already done"),
        lazy_gettext("Someone has already done this; nothing was changed."),
    ),
    413: (
        lazy_gettext("The file is too large"),
        lazy_gettext("Nothing was uploaded. Choose a smaller file."),
    ),
    500: (
        lazy_gettext("Something went wrong on our side"),
        lazy_gettext(
            "The site ran into a problem it did not expect. Try again in a moment; "
            "if it keeps happening, tell the Secretariat."
        ),
    ),
}


def render_error(
    status: int, heading: str | LazyString | None = None, message: str | LazyString | None = None
) -> ResponseReturnValue:
    """The error page with `status`; plain default words for anything not given."""
    default_heading, default_message = PLAIN_WORDS.get(
        status, (lazy_gettext("Something went wrong"), "")
    )
    return (
        render_template(
            "error.html",
            status=status,
            # As plain text, escaped like any other: a lazy string would count as markup.
            heading=str(heading or default_heading),
            message=str(message or default_message),
        ),
        status,
    )


def _sentence(err: Exception | str) -> str:
    text = str(err)
    return text[:1].upper() + text[1:]


def _http_error(err: HTTPException) -> ResponseReturnValue:
    if err.code is None or err.code < 400:
        return err
    if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
        # An address under the API that matches no endpoint: JSON, never a page.
        return http_error_response(err)
    # Werkzeug's stock descriptions are technical; only a description set for this
    # occasion (abort(404, description=...)) is shown instead of ours.
    custom = err.description if err.description != type(err).description else None
    return render_error(err.code, message=custom)


def _csrf_error(_err: CSRFError) -> ResponseReturnValue:
    return render_error(400, gettext("The form was not accepted"), CSRF_MESSAGE)


def _not_allowed(err: NotAllowed) -> ResponseReturnValue:
    return render_error(403, gettext("This task is not yours"), _sentence(err))


def _not_found(err: TaskNotFound) -> ResponseReturnValue:
    return render_error(
        404,
        gettext("No such task"),
        gettext("%(problem)s. Start from your inbox.", problem=_sentence(err)),
    )


def _already_done(err: TaskAlreadyDone) -> ResponseReturnValue:
    return render_error(409, gettext("Already done"), _sentence(err))


def _ended(err: ProcedureEnded) -> ResponseReturnValue:
    return render_error(409, gettext("The procedure has ended"), _sentence(err))


def _concurrent(err: ConcurrentUpdate) -> ResponseReturnValue:
    return render_error(409, gettext("Someone else is changing this procedure"), _sentence(err))


def _refused(err: FormInvalid) -> ResponseReturnValue:
    # Pages with a form catch this and show it beside the field, everything typed kept;
    # this is for a refusal that reaches no form.
    reasons = " ".join(_sentence(reason).rstrip(".") + "." for reason in err.errors.values())
    return render_error(
        422, gettext("Not accepted"), gettext("%(reasons)s Nothing was saved.", reasons=reasons)
    )


def _engine_failed(err: EngineError) -> ResponseReturnValue:
    # The unit of work rolled back, so saying "nothing was saved" is true.
    if isinstance(err, StepFailed):
        # A bug of the methodology: the Secretariat is told (the log has the detail); the
        # person reads which step could not go on, in words that carry none of its insides.
        report_step_failure(app_database().factory, err, now=datetime.now(UTC))
        return render_error(
            500,
            gettext("The procedure could not go on"),
            gettext(
                "%(problem)s. Nothing was saved. The Secretariat, who keep the methodology, "
                "have been told: try again once they have put it right.",
                problem=_sentence(err).rstrip("."),
            ),
        )
    current_app.logger.error("the engine refused a request: %s", err, exc_info=err)
    return render_error(
        500,
        gettext("The procedure could not go on"),
        gettext(
            "%(problem)s. Nothing was saved. Tell the Secretariat, who keep the methodology.",
            problem=_sentence(err).rstrip("."),
        ),
    )


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(NotAllowed, _not_allowed)
    app.register_error_handler(TaskNotFound, _not_found)
    app.register_error_handler(TaskAlreadyDone, _already_done)
    app.register_error_handler(ProcedureEnded, _ended)
    app.register_error_handler(ConcurrentUpdate, _concurrent)
    app.register_error_handler(FormInvalid, _refused)
    app.register_error_handler(EngineError, _engine_failed)
