"""Login attempts per user name and per address (the `limits` counting Flask-Limiter uses),
before any password is checked."""

from __future__ import annotations

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from webui import rate_counts

EXTENSION = "iisg_login_limiter"
DEFAULT_LIMIT = "10/minute"


def init_app(app: Flask) -> None:
    """Login counts of their own, kept where RATELIMIT_STORAGE_URI says."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", rate_counts.URI)
    # Counted only when the login view asks `login_allowed`, so that a refusal can be
    # audited and answered as a page: no Flask-Limiter here, whose check would run before
    # every request of the app for no limit at all.
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = FixedWindowRateLimiter(storage)


def login_allowed(username: str, address: str | None) -> bool:
    """Count one attempt against the user name and against the address; False past either."""
    limiter: FixedWindowRateLimiter = current_app.extensions[EXTENSION]
    rate = parse(str(current_app.config.get("LOGIN_RATE_LIMIT") or DEFAULT_LIMIT))
    # Both are counted, even when the first is spent, so neither can be saved up.
    by_name = limiter.hit(rate, "login", "user", username.lower())
    by_address = limiter.hit(rate, "login", "address", address or "unknown")
    return by_name and by_address
