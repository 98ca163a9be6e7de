"""The web app's configuration, in layers: defaults, then the environment, then the caller's."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from models import database_url
from workflows.settings import DEFAULT_MIN_NOTICE, MIN_NOTICE_VARIABLE, minimum_notice_from

DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Session cookies go over TLS only; `iisg serve` on a loopback address (plain
    # http://127.0.0.1) turns this off unless IISG_SESSION_COOKIE_SECURE says otherwise.
    "SESSION_COOKIE_SECURE": True,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # A session unused this long ends, however young it is.
    "SESSION_IDLE_TIMEOUT": timedelta(hours=1),
    # A person may spend well over an hour writing minutes into a task form; the token
    # then lives as long as their session instead of expiring under their hands.
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # the cap on one upload (413 beyond it)
    # How far ahead a deadline a person sets must lie (a timedelta).
    "SILENT_PROCEDURE_MIN_NOTICE": DEFAULT_MIN_NOTICE,
    # Reverse proxies in front of the app whose X-Forwarded-For is believed: login throttling
    # goes by the visitor's address, which behind a proxy only that header knows.
    "TRUSTED_PROXIES": 0,
}

KEY_FILE = "secret_key"
_TRUE = {"1", "true", "yes", "on"}


def instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where this installation keeps its own files: IISG_INSTANCE_DIR or ./instance."""
    env = os.environ if environ is None else environ
    return Path(env.get("IISG_INSTANCE_DIR", "instance")).resolve()


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives (only those it sets)."""
    found: dict[str, Any] = {}
    if environ.get("IISG_DATABASE_URL", "").strip():
        found["DATABASE_URL"] = database_url(dict(environ))
    if environ.get("IISG_SECRET_KEY", "").strip():
        found["SECRET_KEY"] = environ["IISG_SECRET_KEY"].strip()
    if "IISG_SESSION_COOKIE_SECURE" in environ:
        found["SESSION_COOKIE_SECURE"] = environ["IISG_SESSION_COOKIE_SECURE"].lower() in _TRUE
    if environ.get("IISG_SESSION_HOURS", "").strip():
        found["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(environ["IISG_SESSION_HOURS"]))
    if environ.get("IISG_SESSION_IDLE_MINUTES", "").strip():
        found["SESSION_IDLE_TIMEOUT"] = timedelta(
            minutes=float(environ["IISG_SESSION_IDLE_MINUTES"])
        )
    # The JSON API's rate limit per token, and where the counts are kept (several web
    # workers need a shared store, e.g. redis://..., to share one limit).
    if environ.get("IISG_API_RATE_LIMIT", "").strip():
        found["API_RATE_LIMIT"] = environ["IISG_API_RATE_LIMIT"].strip()
    if environ.get("IISG_TRUSTED_PROXIES", "").strip():
        found["TRUSTED_PROXIES"] = int(environ["IISG_TRUSTED_PROXIES"])
    if environ.get("IISG_RATELIMIT_STORAGE_URI", "").strip():
        found["RATELIMIT_STORAGE_URI"] = environ["IISG_RATELIMIT_STORAGE_URI"].strip()
    if environ.get(MIN_NOTICE_VARIABLE, "").strip():
        found["SILENT_PROCEDURE_MIN_NOTICE"] = minimum_notice_from(environ)
    return found


def minimum_notice() -> timedelta:
    """The app's minimum notice before a deadline a person sets (see DEFAULTS)."""
    notice: timedelta = current_app.config["SILENT_PROCEDURE_MIN_NOTICE"]
    return notice


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def served_locally(host: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings for `iisg serve` on `host`: plain http on a loopback address needs cookies
    that are not Secure, unless the environment decides."""
    env = os.environ if environ is None else environ
    if host in LOOPBACK_HOSTS and "IISG_SESSION_COOKIE_SECURE" not in env:
        return {"SESSION_COOKIE_SECURE": False}
    return {}


def stored_secret_key(directory: Path) -> str:
    """The secret key kept in the instance directory, created on first use."""
    path = directory / KEY_FILE
    directory.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key + "\n")
    return key


def load_settings(
    test_config: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Defaults, overridden by the environment, overridden by `test_config`."""
    env = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    settings.update(from_environment(env))
    settings.update(test_config or {})
    # Resolved last, so a caller that names its own database or key touches no files.
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = database_url(dict(env))
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = stored_secret_key(instance_dir(env))
    return settings
