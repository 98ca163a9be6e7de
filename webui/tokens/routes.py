"""`/account/tokens`: list your API tokens, make one (its secret shown once), revoke one."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from models import User
from webui.auth.login import login_required_response, require_person
from webui.database import request_session, unit_of_work
from workflows.people.tokens import NAME_LENGTH, TokenError, create_token, revoke_token, tokens_of

bp = Blueprint("tokens", __name__)
bp.before_request(login_required_response)


def _user(session: Session) -> User:
    user = session.get(User, require_person().user_id)
    if user is None:  # logged in a moment ago, removed since
        raise NotFound()
    return user


def _render_tokens(error: str | None = None, name: str = "") -> str:
    person = require_person()
    return render_template(
        "tokens/tokens.html",
        tokens=tokens_of(request_session(), person.user_id),
        error=error,
        name=name,
        name_length=NAME_LENGTH,
        now=datetime.now(UTC),
    )


@bp.get("/account/tokens")
def tokens() -> ResponseReturnValue:
    """The person's API tokens, and a form to make a new one."""
    return _render_tokens()


@bp.post("/account/tokens")
def create() -> ResponseReturnValue:
    """Make a token; its secret is shown on this one page and never again."""
    name = request.form.get("name", "")
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[str, str]:
        token, secret = create_token(session, _user(session), name, now=now)
        return token.name, secret

    try:
        token_name, secret = unit_of_work(work)
    except TokenError as err:
        message = str(err)
        return _render_tokens(message[:1].upper() + message[1:] + ".", name), 400
    response = render_template("tokens/created.html", name=token_name, secret=secret)
    # The secret must not stay in a cache or come back with the browser's Back button.
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the person's tokens: it stops working at once."""
    now = datetime.now(UTC)

    def work(session: Session) -> str:
        return revoke_token(session, token_id, user=_user(session), now=now).name

    try:
        name = unit_of_work(work)
    except TokenError as err:
        raise NotFound(gettext("You have no such token. Start from your API tokens.")) from err
    flash(gettext("Revoked: the token '%(name)s' no longer works.", name=name), "success")
    return redirect(url_for("tokens.tokens"))
