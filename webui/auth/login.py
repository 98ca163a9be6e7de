"""Flask-Login, bound to the IISG's users: who is logged in, and as whom the engine sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, session
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext
from flask_login import (
    LoginManager,
    current_user,
    login_user,
    logout_user,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import User
from webui.database import one_statement, unit_of_work
from workflows.people.accounts import participant
from workflows.people.login_sessions import SessionRule, end_session, live_session, start_session

# Where Flask-Login keeps what `Person.get_id` gave at login: here, the session's secret.
SESSION_KEY = "_user_id"

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("Please log in to see this page.")
# Flask-Login flashes the message into the session, which holds plain strings only.
login_manager.localize_callback = str
login_manager.login_message_category = "info"


@dataclass(frozen=True)
class Person:
    """The logged-in user, as Flask-Login wants them and as the engine sees them."""

    user_id: int
    username: str
    display_name: str
    participant: Participant
    # The secret of the server-side login session the cookie carries ("" for an API token).
    session_secret: str = ""

    # Flask-Login's protocol; anonymous visitors are Flask-Login's own object.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """What the signed session cookie carries: the login session's secret, not the user."""
        return self.session_secret


def session_rule() -> SessionRule:
    """The app's idle time and lifetime of a session (webui/auth/expiry.py tells people)."""
    return SessionRule(
        idle=current_app.config.get("SESSION_IDLE_TIMEOUT"),
        lifetime=current_app.permanent_session_lifetime,
    )


def load_person(secret: str) -> Person | None:
    """The person whose live login session the cookie names; None once it has ended."""
    rule = session_rule()
    now = datetime.now(UTC)

    def work(connection: Connection) -> Person | None:
        holder = live_session(connection, secret, now=now, rule=rule)
        if holder is None:
            return None
        return Person(
            holder.user_id, holder.username, holder.display_name, holder.participant, secret
        )

    # One read, and once a minute one single-row write of the session's last use.
    return one_statement(work)


def init_app(app: Flask) -> None:
    """Bind Flask-Login to the app."""
    login_manager.init_app(app)
    login_manager.user_loader(load_person)


def current_person() -> Person | None:
    """The logged-in person, or None for an anonymous visitor."""
    user = current_user._get_current_object()
    return user if isinstance(user, Person) else None


def require_person() -> Person:
    """The logged-in person; only for views behind `login_required_response`."""
    person = current_person()
    if person is None:
        raise RuntimeError("this view needs a logged-in person")
    return person


def login_required_response() -> ResponseReturnValue | None:
    """A before-request hook: send anonymous visitors to the login page."""
    if current_person() is None:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


def log_in(user_id: int, *, now: datetime, remote_addr: str | None) -> None:
    """Start a login session for the user, on the server and in the browser's cookie."""

    def work(db: Session) -> Person:
        user = db.get(User, user_id)
        if user is None:  # removed a moment ago
            raise LookupError(user_id)
        secret = start_session(db, user, now=now, remote_addr=remote_addr)
        return Person(user.id, user.username, user.display_name, participant(user), secret)

    login_user(unit_of_work(work))


def log_out(*, now: datetime) -> None:
    """End the browser's login session for good: a copy of its cookie opens nothing after."""
    secret: Any = session.get(SESSION_KEY)
    if isinstance(secret, str) and secret:
        unit_of_work(lambda db: end_session(db, secret, now=now))
    logout_user()
