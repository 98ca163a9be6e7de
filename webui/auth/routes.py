"""Logging in and out."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext

from engine import audit
from webui.auth.login import current_person, log_in, log_out, person_of
from webui.database import request_session, unit_of_work
from workflows.accounts import authenticate

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = lazy_gettext("Wrong user name or password.")
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
    user, reason = authenticate(request_session(), username, password)
    if user is None:
        payload = {"reason": reason, "remote_addr": request.remote_addr}
        unit_of_work(
            lambda s: audit.record(
                s,
                kind="login.failed",
                actor=username[:_ACTOR_LENGTH] or "(blank)",
                now=now,
                payload=payload,
            )
        )
        return render_template(
            "auth/login.html", next=target, username=username, error=WRONG_CREDENTIALS
        )

    # A fresh session at login: nothing set before it carries over (session fixation).
    session.clear()
    log_in(person_of(user))
    session.permanent = True
    return redirect(target or url_for("inbox.inbox"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    log_out()
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))
