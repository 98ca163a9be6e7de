"""Error pages in plain words, for HTTP errors and for what the engine refuses."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    ConcurrentUpdate,
    EngineError,
    NotAllowed,
    TaskAlreadyDone,
    TaskNotFound,
)

CSRF_MESSAGE = (
    "This form has expired or was not sent from this site. Go back, reload the page and try again."
)

PLAIN_WORDS: dict[int, tuple[str, str]] = {
    400: ("This request could not be understood", "Go back, reload the page and try again."),
    403: ("Not allowed", "You may not open this page with your roles."),
    404: ("Not found", "There is no such page. Check the address, or start from your inbox."),
    405: ("Not possible here", "This page cannot be used that way. Start from your inbox."),
    409: ("Already done", "Someone has already done this; nothing was changed."),
    413: ("The file is too large", "Nothing was uploaded. Choose a smaller file."),
    500: (
        "Something went wrong on our side",
        "The site ran into a problem it did not expect. Try again in a moment; "
        "if it keeps happening, tell the Secretariat.",
    ),
}


def render_error(
    status: int, heading: str | None = None, message: str | None = None
) -> ResponseReturnValue:
    """The error page with `status`; plain default words for anything not given."""
    default_heading, default_message = PLAIN_WORDS.get(status, ("Something went wrong", ""))
    return (
        render_template(
            "error.html",
            status=status,
            heading=heading or default_heading,
            message=message or default_message,
        ),
        status,
    )


def _sentence(err: Exception) -> str:
    text = str(err)
    return text[:1].upper() + text[1:]


def _http_error(err: HTTPException) -> ResponseReturnValue:
    if err.code is None or err.code < 400:
        return err
    # Werkzeug's stock descriptions are technical; only a description set for this
    # occasion (abort(404, description=...)) is shown instead of ours.
    custom = err.description if err.description != type(err).description else None
    return render_error(err.code, message=custom)


def _csrf_error(_err: CSRFError) -> ResponseReturnValue:
    return render_error(400, "The form was not accepted", CSRF_MESSAGE)


def _not_allowed(err: NotAllowed) -> ResponseReturnValue:
    return render_error(403, "This task is not yours", _sentence(err))


def _not_found(err: TaskNotFound) -> ResponseReturnValue:
    return render_error(404, "No such task", _sentence(err) + ". Start from your inbox.")


def _already_done(err: TaskAlreadyDone) -> ResponseReturnValue:
    return render_error(409, "Already done", _sentence(err))


def _concurrent(err: ConcurrentUpdate) -> ResponseReturnValue:
    return render_error(409, "Someone else is changing this procedure", _sentence(err))


def _engine_failed(err: EngineError) -> ResponseReturnValue:
    # The unit of work rolled back, so saying "nothing was saved" is true; the message
    # names the step and what failed in it, which the Secretariat needs to fix the diagram.
    current_app.logger.error("the engine refused a request: %s", err, exc_info=err)
    return render_error(
        500,
        "The procedure could not go on",
        f"{_sentence(err).rstrip('.')}. Nothing was saved. Tell the Secretariat, "
        "who keep the methodology.",
    )


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(NotAllowed, _not_allowed)
    app.register_error_handler(TaskNotFound, _not_found)
    app.register_error_handler(TaskAlreadyDone, _already_done)
    app.register_error_handler(ConcurrentUpdate, _concurrent)
    app.register_error_handler(EngineError, _engine_failed)
