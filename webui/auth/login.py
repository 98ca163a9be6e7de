"""Flask-Login, bound to the IISG's users: who is logged in, and as whom the engine sees them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext
from flask_login import (
    LoginManager,
    current_user,
    login_user,
    logout_user,
)

from engine.assignment import Participant
from models import User
from webui.database import request_session
from workflows.accounts import participant

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

    # Flask-Login's protocol; anonymous visitors are Flask-Login's own object.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The id kept in the signed session cookie."""
        return str(self.user_id)


def person_of(user: User) -> Person:
    """A user row as the person who logs in."""
    return Person(user.id, user.username, user.display_name, participant(user))


def load_person(user_id: str) -> Person | None:
    """The person whose id the session carries, unless they were removed or deactivated."""
    try:
        user = request_session().get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    return person_of(user)


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


def log_in(person: Person) -> None:
    """Start the person's session."""
    login_user(person)


def log_out() -> None:
    """End the current session."""
    logout_user()
