"""Logging in and out."""

from __future__ import annotations

from datetime import UTC, datetime
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
from flask_babel import format_datetime, gettext, lazy_gettext

from engine import audit
from models import User
from webui.auth import expiry
from webui.auth.limits import login_allowed
from webui.auth.login import current_person, log_in, log_out, person_of
from webui.database import request_session, unit_of_work
from workflows.lockout import LockoutRule, attempt_login

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = lazy_gettext("Wrong user name or password.")
TOO_MANY_ATTEMPTS = lazy_gettext(
    "Too many login attempts in a short time. Wait a minute, then try again."
)
_ACTOR_LENGTH = 64  # audit_event.actor


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
    if not login_allowed(username, request.remote_addr):
        unit_of_work(
            lambda s: audit.record(
                s,
                kind="auth.rate_limited",
                actor=username[:_ACTOR_LENGTH] or "(blank)",
                now=now,
                payload={"remote_addr": request.remote_addr},
            )
        )
        page = render_template(
            "auth/login.html", next=target, username=username, error=TOO_MANY_ATTEMPTS
        )
        return page, 429, {"Retry-After": "60"}
    rule = LockoutRule(
        failures=int(current_app.config.get("LOCKOUT_FAILURES", 5)),
        minutes=int(current_app.config.get("LOCKOUT_MINUTES", 15)),
    )
    attempt = unit_of_work(
        lambda s: attempt_login(
            s, username, password, now=now, rule=rule, remote_addr=request.remote_addr
        )
    )
    if attempt.locked_until is not None:
        until = format_datetime(attempt.locked_until, "short")
        error = gettext(
            "This account is locked after too many failed logins, until %(until)s. "
            "Try again then, or ask the Secretariat to unlock it.",
            until=until,
        )
        return render_template("auth/login.html", next=target, username=username, error=error)
    user = None if attempt.user_id is None else request_session().get(User, attempt.user_id)
    if user is None:
        return render_template(
            "auth/login.html", next=target, username=username, error=WRONG_CREDENTIALS
        )

    # A fresh session at login: nothing set before it carries over (session fixation).
    session.clear()
    log_in(person_of(user))
    session.permanent = True
    expiry.start(now)
    return redirect(target or url_for("inbox.inbox"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    log_out()
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))
