"""Login attempts per user name and per address (Flask-Limiter's counting), before any
password is checked."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

EXTENSION = "iisg_login_limiter"
DEFAULT_LIMIT = "10/minute"


def init_app(app: Flask) -> None:
    """A limiter of its own for logins; counts kept where RATELIMIT_STORAGE_URI says."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    # No limit of its own on any route: the login view asks `login_allowed` itself, so a
    # refusal can be audited and answered as a page.
    app.extensions[EXTENSION] = Limiter(get_remote_address, app=app, default_limits=[])


def login_allowed(username: str, address: str | None) -> bool:
    """Count one attempt against the user name and against the address; False past either."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    rate = parse(str(current_app.config.get("LOGIN_RATE_LIMIT") or DEFAULT_LIMIT))
    # Both are counted, even when the first is spent, so neither can be saved up.
    by_name = limiter.limiter.hit(rate, "login", "user", username.lower())
    by_address = limiter.limiter.hit(rate, "login", "address", address or "unknown")
    return by_name and by_address
