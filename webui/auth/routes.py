"""Logging in and out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy.orm import Session

from models import User
from webui.auth import expiry
from webui.auth.login import (
    current_person,
    log_in,
    log_out,
    login_required_response,
    require_person,
)
from webui.auth.two_factor import mark_if_set_up_needed, wait_for_code
from webui.database import request_session, unit_of_work
from workflows.people.login_sessions import end_sessions_of, secret_hash, sessions_of
from workflows.people.login_throttle import ThrottleRule, attempt_login

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = lazy_gettext("Wrong user name or password.")


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site; None for anything that could leave it."""
    if not target:
        return None
    target = target.strip()
    # "//host" and "/\host" are read by browsers as another site.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; on success, where the person was going (or their inbox)."""
    target = safe_next(request.values.get("next"))
    if current_person() is not None:
        return redirect(target or url_for("inbox.inbox"))
    if request.method == "GET":
        return render_template("auth/login.html", next=target, username="")

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    now = datetime.now(UTC)
    address = request.remote_addr
    rule: ThrottleRule = current_app.config.get("LOGIN_THROTTLE") or ThrottleRule()
    attempt = unit_of_work(
        lambda s: attempt_login(s, username, password, now=now, rule=rule, remote_addr=address)
    )
    if attempt.wait is not None:
        seconds = math.ceil(attempt.wait.total_seconds())
        page = render_template(
            "auth/login.html", next=target, username=username, error=_wait_words(attempt.wait)
        )
        return page, 429, {"Retry-After": str(seconds)}
    if attempt.user_id is None:
        return render_template(
            "auth/login.html", next=target, username=username, error=WRONG_CREDENTIALS
        )

    if attempt.needs_code:
        return wait_for_code(attempt.user_id, target, now)
    # A fresh session at login: nothing set before it carries over (session fixation).
    session.clear()
    log_in(attempt.user_id, now=now, remote_addr=address)
    session.permanent = True
    expiry.start(now)
    mark_if_set_up_needed(attempt.user_id)
    return redirect(target or url_for("inbox.inbox"))


def _wait_words(wait: timedelta) -> str:
    """The throttled login's message: the same for every name, known or not."""
    seconds = math.ceil(wait.total_seconds())
    if seconds < 120:
        how_long = ngettext("%(num)d second", "%(num)d seconds", seconds)
    else:
        how_long = ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))
    return str(
        gettext(
            "Too many failed logins. Wait %(how_long)s, then try again. If you have forgotten "
            "your password, ask for a link to set a new one (below).",
            how_long=how_long,
        )
    )


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session, on the server too: a copy of the cookie opens nothing after this."""
    log_out(now=datetime.now(UTC))
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
def account() -> ResponseReturnValue:
    """The person's account: how they get mail, their password and second factor, their
    sessions and API tokens."""
    refused = login_required_response()
    if refused is not None:
        return refused
    user = request_session().get(User, require_person().user_id)
    if user is None:  # removed a moment ago
        return redirect(url_for("auth.login"))
    return render_template("auth/account.html", user=user)


@bp.get("/account/sessions")
def sessions() -> ResponseReturnValue:
    """Where the person is logged in, with buttons to log out everywhere else, or everywhere."""
    refused = login_required_response()
    if refused is not None:
        return refused
    person = require_person()
    return render_template(
        "auth/sessions.html",
        sessions=sessions_of(request_session(), person.user_id),
        this_one=secret_hash(person.session_secret),
    )


@bp.post("/account/sessions/end")
def end_sessions() -> ResponseReturnValue:
    """End the person's other sessions, or (`everywhere`) all of them, this one included."""
    refused = login_required_response()
    if refused is not None:
        return refused
    person = require_person()
    everywhere = request.form.get("which") == "everywhere"
    now = datetime.now(UTC)

    def work(db: Session) -> int:
        user = db.get(User, person.user_id)
        if user is None:  # removed a moment ago: nothing of theirs is left to end
            return 0
        return end_sessions_of(
            db,
            user,
            now=now,
            actor=person.username,
            reason="ended by the person" + ("" if everywhere else ", but for this one"),
            keep_secret=None if everywhere else person.session_secret,
        )

    ended = unit_of_work(work)
    if everywhere:
        log_out(now=now)
        session.clear()
        flash(gettext("You are logged out everywhere, here too."), "info")
        return redirect(url_for("auth.login"))
    flash(
        ngettext(
            "Logged out everywhere else: %(num)d other session ended.",
            "Logged out everywhere else: %(num)d other sessions ended.",
            ended,
        ),
        "success",
    )
    return redirect(url_for("auth.sessions"))
