"""Sessions end: one unused for SESSION_IDLE_TIMEOUT, or older than
PERMANENT_SESSION_LIFETIME since login, is logged out, and the person is told so on the
login page, including when what they sent was not kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from webui.auth.login import SESSION_KEY, log_out

SEEN_AT = "_seen_at"
LOGGED_IN_AT = "_logged_in_at"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def start(now: datetime) -> None:
    """Note when the session began (called at login)."""
    session[LOGGED_IN_AT] = session[SEEN_AT] = now.timestamp()


def end_idle_session() -> ResponseReturnValue | None:
    """A before-request hook: log out a session idle or open too long; else note its use."""
    if SESSION_KEY not in session:
        return None
    moment = datetime.now(UTC)
    now = moment.timestamp()
    reason = _why_ended(now)
    if reason is None:
        session[SEEN_AT] = now
        return None
    log_out(now=moment)  # on the server too: the cookie's copies end with it
    session.clear()
    flash(reason, "info")
    if request.method not in _SAFE_METHODS:
        flash(
            gettext(
                "What you just sent was not saved. Log in, open the page again and send it again."
            ),
            "error",
        )
        target = request.path
    else:
        target = request.full_path.rstrip("?")
    # The login view checks `next` again before sending anyone there.
    return redirect(url_for("auth.login", next=target))


def _why_ended(now: float) -> str | None:
    """Why the session must end now, in the person's words; None while it may go on."""
    idle: timedelta | None = current_app.config.get("SESSION_IDLE_TIMEOUT")
    seen = session.get(SEEN_AT)
    if idle is not None and isinstance(seen, (int, float)) and now - seen > idle.total_seconds():
        return str(
            gettext(
                "Your session ended after %(minutes)d minutes without use. Please log in again.",
                minutes=round(idle.total_seconds() / 60),
            )
        )
    # Flask renews the cookie on every answer, so its own expiry slides; this one does not.
    lifetime: timedelta = current_app.permanent_session_lifetime
    began = session.get(LOGGED_IN_AT)
    if isinstance(began, (int, float)) and now - began > lifetime.total_seconds():
        return str(
            gettext(
                "Your session ended %(hours)d hours after you logged in. Please log in again.",
                hours=round(lifetime.total_seconds() / 3600),
            )
        )
    return None


def init_app(app: Flask) -> None:
    """End idle sessions before any view runs."""
    app.before_request(end_idle_session)
