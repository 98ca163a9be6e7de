"""The one place configuration is read: the environment and the settings file, once at start
(`iisg` commands, and the app factory for a WSGI server), every value checked, and handed down
as a `Settings`. A value the system cannot use stops the start with a sentence naming it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from limits import parse_many
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from models import database_url
from workflows.inbox.documents import DEFAULT_MAX_BYTES
from workflows.settings import (
    DEFAULT_MIN_NOTICE,
    ProcedureSettings,
    SettingsError,
    flag,
    load_settings,
    minimum_notice_from,
)

DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Session cookies go over TLS only; `iisg serve` on a loopback address (plain
    # http://127.0.0.1) turns this off unless IISG_SESSION_COOKIE_SECURE says otherwise.
    "SESSION_COOKIE_SECURE": True,
    # A person may spend well over an hour writing minutes into a task form; the token
    # then lives as long as their session instead of expiring under their hands.
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # the cap on one upload (413 beyond it)
}

KEY_FILE = "secret_key"
DATABASES = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Settings:
    """Everything an operator configures, checked; None where the environment says nothing."""

    # IISG_DATABASE_URL as given (None: SQLite in the instance directory, see database()).
    database_url: str | None
    instance_dir: Path
    procedures: ProcedureSettings = field(default_factory=ProcedureSettings)
    secret_key: str | None = None
    session_cookie_secure: bool | None = None
    session_lifetime: timedelta = timedelta(hours=8)
    # A session unused this long ends, however young it is.
    session_idle_timeout: timedelta = timedelta(hours=1)
    # The JSON API's rate limit per token, and where the counts are kept (several web
    # workers need a shared store, e.g. redis://..., to share one limit).
    api_rate_limit: str | None = None
    ratelimit_storage_uri: str | None = None
    # Reverse proxies in front of the app whose X-Forwarded-For is believed: login throttling
    # goes by the visitor's address, which behind a proxy only that header knows.
    trusted_proxies: int = 0
    # How far ahead a deadline a person sets must lie.
    min_notice: timedelta = DEFAULT_MIN_NOTICE
    # How long the link in a password-reset mail works.
    password_reset_valid: timedelta = timedelta(hours=1)
    # Whether the Secretariat and the Board must sign in with a second factor (an
    # authenticator app's code): on in production; `make run`'s demo turns it off.
    two_factor_required: bool = True
    # How long the link in an invitation works.
    invitation_valid: timedelta = timedelta(days=7)
    # The time zone a date and time typed in a form is read in when the browser does not
    # say its own (an IANA name, like Europe/Belgrade).
    time_zone: str = "UTC"

    def database(self) -> str:
        """The database's URL: IISG_DATABASE_URL, else SQLite in the instance directory."""
        return database_url(self.database_url, self.instance_dir)

    def app_config(self) -> dict[str, Any]:
        """The Flask configuration these settings make, on top of DEFAULTS."""
        config = dict(DEFAULTS)
        config.update(
            PERMANENT_SESSION_LIFETIME=self.session_lifetime,
            SESSION_IDLE_TIMEOUT=self.session_idle_timeout,
            TRUSTED_PROXIES=self.trusted_proxies,
            SILENT_PROCEDURE_MIN_NOTICE=self.min_notice,
            PASSWORD_RESET_VALID=self.password_reset_valid,
            TWO_FACTOR_REQUIRED=self.two_factor_required,
            INVITATION_VALID=self.invitation_valid,
            TIME_ZONE=self.time_zone,
            PROCEDURE_SETTINGS=self.procedures,
        )
        if self.database_url:
            config["DATABASE_URL"] = self.database()
        if self.session_cookie_secure is not None:
            config["SESSION_COOKIE_SECURE"] = self.session_cookie_secure
        if self.secret_key:
            config["SECRET_KEY"] = self.secret_key
        if self.api_rate_limit:
            config["API_RATE_LIMIT"] = self.api_rate_limit
        if self.ratelimit_storage_uri:
            config["RATELIMIT_STORAGE_URI"] = self.ratelimit_storage_uri
        return config


def _given(environ: Mapping[str, str], variable: str) -> str | None:
    return environ.get(variable, "").strip() or None


def _positive(environ: Mapping[str, str], variable: str, unit: str) -> float | None:
    raw = _given(environ, variable)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise SettingsError(f"{variable} should be a number of {unit} above 0, not {raw!r}")
    return value


def _database_url(environ: Mapping[str, str]) -> str | None:
    raw = _given(environ, "IISG_DATABASE_URL")
    if raw is None:
        return None
    try:
        backend = make_url(raw).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in DATABASES:
        raise SettingsError(
            "IISG_DATABASE_URL should name a PostgreSQL or SQLite database, like "
            f"postgresql://iisg@db.internal/iisg; not {raw!r}"
        )
    return raw


def _api_rate_limit(environ: Mapping[str, str]) -> str | None:
    raw = _given(environ, "IISG_API_RATE_LIMIT")
    if raw is not None:
        try:
            parse_many(raw)
        except ValueError as err:
            raise SettingsError(
                "IISG_API_RATE_LIMIT should be requests per period, like 120/minute or "
                f"10/second;600/hour; not {raw!r}"
            ) from err
    return raw


def _storage_uri(environ: Mapping[str, str]) -> str | None:
    raw = _given(environ, "IISG_RATELIMIT_STORAGE_URI")
    if raw is not None and "://" not in raw:
        raise SettingsError(
            "IISG_RATELIMIT_STORAGE_URI should be a storage address, like "
            f"redis://cache.internal:6379 or iisg-memory://; not {raw!r}"
        )
    return raw


def _trusted_proxies(environ: Mapping[str, str]) -> int:
    raw = _given(environ, "IISG_TRUSTED_PROXIES")
    if raw is None:
        return 0
    if not raw.isdigit():
        raise SettingsError(
            f"IISG_TRUSTED_PROXIES should be a number of proxies (0 or more), not {raw!r}"
        )
    return int(raw)


def _time_zone(environ: Mapping[str, str]) -> str:
    raw = _given(environ, "IISG_TIME_ZONE")
    if raw is None:
        return "UTC"
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(
            f"IISG_TIME_ZONE should name a time zone, like Europe/Belgrade or UTC; not {raw!r}"
        ) from err
    return raw


def read_settings(environ: Mapping[str, str]) -> Settings:
    """The settings `environ` and the settings file it names give, every value checked."""
    instance = Path(_given(environ, "IISG_INSTANCE_DIR") or "instance").resolve()
    given: dict[str, Any] = {}
    if (secure := _given(environ, "IISG_SESSION_COOKIE_SECURE")) is not None:
        given["session_cookie_secure"] = flag("IISG_SESSION_COOKIE_SECURE", secure)
    if (hours := _positive(environ, "IISG_SESSION_HOURS", "hours")) is not None:
        given["session_lifetime"] = timedelta(hours=hours)
    if (minutes := _positive(environ, "IISG_SESSION_IDLE_MINUTES", "minutes")) is not None:
        given["session_idle_timeout"] = timedelta(minutes=minutes)
    if (required := _given(environ, "IISG_TWO_FACTOR_REQUIRED")) is not None:
        given["two_factor_required"] = flag("IISG_TWO_FACTOR_REQUIRED", required)
    if (minutes := _positive(environ, "IISG_PASSWORD_RESET_MINUTES", "minutes")) is not None:
        given["password_reset_valid"] = timedelta(minutes=minutes)
    if (days := _positive(environ, "IISG_INVITATION_DAYS", "days")) is not None:
        given["invitation_valid"] = timedelta(days=days)
    return Settings(
        database_url=_database_url(environ),
        instance_dir=instance,
        procedures=load_settings(environ, instance),
        secret_key=_given(environ, "IISG_SECRET_KEY"),
        api_rate_limit=_api_rate_limit(environ),
        ratelimit_storage_uri=_storage_uri(environ),
        trusted_proxies=_trusted_proxies(environ),
        min_notice=minimum_notice_from(environ),
        time_zone=_time_zone(environ),
        **given,
    )


def minimum_notice() -> timedelta:
    """The app's minimum notice before a deadline a person sets (see Settings.min_notice)."""
    notice: timedelta = current_app.config["SILENT_PROCEDURE_MIN_NOTICE"]
    return notice


def default_time_zone() -> str:
    """The zone a form's dates and times are read in when the browser names none."""
    return str(current_app.config.get("TIME_ZONE", "UTC"))


def password_reset_valid() -> timedelta:
    """How long the link in a password-reset mail works (see Settings.password_reset_valid)."""
    valid: timedelta = current_app.config.get("PASSWORD_RESET_VALID", timedelta(hours=1))
    return valid


def two_factor_required() -> bool:
    """Whether the Secretariat and the Board must sign in with a second factor."""
    return bool(current_app.config.get("TWO_FACTOR_REQUIRED", True))


def invitation_valid() -> timedelta:
    """How long the link in an invitation works (see Settings.invitation_valid)."""
    valid: timedelta = current_app.config.get("INVITATION_VALID", timedelta(days=7))
    return valid


def procedure_settings() -> ProcedureSettings:
    """The app's procedure settings: mail, reminders, the scheduler's safety interval."""
    settings: ProcedureSettings = current_app.config["PROCEDURE_SETTINGS"]
    return settings


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def served_locally(host: str, settings: Settings) -> Settings:
    """The settings for `iisg serve` on `host`: plain http on a loopback address needs
    cookies that are not Secure, unless IISG_SESSION_COOKIE_SECURE decides."""
    if host in LOOPBACK_HOSTS and settings.session_cookie_secure is None:
        return replace(settings, session_cookie_secure=False)
    return settings


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


def app_config(settings: Settings, test_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The app's configuration: the settings, overridden by `test_config`."""
    config = settings.app_config()
    config.update(test_config or {})
    # Last, so a caller that names its own database or key touches no files.
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = settings.database()
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = stored_secret_key(settings.instance_dir)
    return config


def documents_dir_of(app: Flask) -> Path:
    """Where an app keeps documents: DOCUMENTS_DIR, else <instance dir>/documents."""
    configured = app.config.get("DOCUMENTS_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "documents"


def documents_dir() -> Path:
    """Where this app keeps documents (see documents_dir_of)."""
    return documents_dir_of(current_app)


def max_upload_bytes() -> int:
    """The size cap of one request (MAX_CONTENT_LENGTH), and so of one file."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else DEFAULT_MAX_BYTES
