"""The procedures' settings: reminders, recurring starts, mail.

Parsed from a TOML file (`IISG_SETTINGS`, else `settings.toml` in the instance directory, if
there is one), then from `IISG_SMTP_*` variables for the mail server, in the environment the
start hands over (webui/settings.py reads it, once). Every value has a default, so the system
runs with no file at all. An unknown key or a wrong value is refused with its name, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

MIN_NOTICE_VARIABLE = "IISG_SILENT_PROCEDURE_MIN_NOTICE"
# The Board is given at least a day to see a silent procedure before silence can adopt it.
DEFAULT_MIN_NOTICE = timedelta(hours=24)
MAX_MIN_NOTICE = timedelta(days=365)
_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
# Weeks, days, hours, minutes and seconds: years and months have no fixed length.
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


class SettingsError(ValueError):
    """The settings file or a variable says something the system cannot use; says which."""


def flag(variable: str, raw: str) -> bool:
    """A variable's true or false, refused naming it when it is neither."""
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(f"{variable} should be true or false, not {raw!r}")


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server the sender delivers through."""

    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    sender: str = "IISG Procedures <no-reply@iisg.invalid>"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class MailSettings:
    """What the outbox does: where links point, when digests go, how failures are retried."""

    smtp: SmtpSettings | None = None
    base_url: str = "http://127.0.0.1:5000"
    digest_hour_utc: int = 7
    max_attempts: int = 8
    first_retry_seconds: float = 60.0
    max_retry_seconds: float = 6 * 3600.0
    send_interval_seconds: float = 15.0


@dataclass(frozen=True)
class ReminderSettings:
    """Reminders before a task's due time and the Secretariat's notice when it passes."""

    working_days_before: tuple[int, ...] = (3, 1)
    tell_secretariat_at_due: bool = True
    # Tasks that went past due longer ago than this (e.g. before the system was installed)
    # are not escalated when the scheduler first sees them.
    escalate_within_days: int = 7


@dataclass(frozen=True)
class RecurringSchedule:
    """A procedure started every `every_years` years on a fixed day, from `first_year` on."""

    name: str
    process_key: str
    every_years: int
    first_year: int
    month: int
    day: int
    hour_utc: int = 8
    # The start form's field that takes the period's year (None: the form takes none).
    year_field: str | None = None
    enabled: bool = True


def _default_schedules() -> tuple[RecurringSchedule, ...]:
    return (
        RecurringSchedule(
            name="annual_response_mapping",
            process_key="response_mapping",
            every_years=1,
            first_year=2027,
            month=1,
            day=15,
            year_field="report_year",
        ),
        RecurringSchedule(
            name="biennial_needs_mapping",
            process_key="needs_mapping",
            every_years=2,
            first_year=2027,
            month=2,
            day=1,
            year_field="mapping_year",
        ),
    )


@dataclass(frozen=True)
class ProcedureSettings:
    """Everything the scheduler's jobs and the mail need to know."""

    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    recurring: tuple[RecurringSchedule, ...] = field(default_factory=_default_schedules)
    mail: MailSettings = field(default_factory=MailSettings)
    safety_interval_seconds: float = 60.0


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SettingsError(
            f"[{where}] has no setting {', '.join(unknown)}; it knows {', '.join(sorted(allowed))}"
        )


def _typed(value: Any, kind: type, name: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{name} should be {kind.__name__}, not {value!r}")
    return value


def _section(cls: type, table: Mapping[str, Any], where: str, **extra: Any) -> Any:
    fields = {f.name: f for f in cls.__dataclass_fields__.values()}  # type: ignore[attr-defined]
    _check_keys(table, set(fields) - set(extra), where)
    values: dict[str, Any] = dict(extra)
    for key, value in table.items():
        default = fields[key].default
        if isinstance(default, bool):
            values[key] = _typed(value, bool, f"{where}.{key}")
        elif isinstance(default, int):
            values[key] = _typed(value, int, f"{where}.{key}")
        elif isinstance(default, float):
            values[key] = _typed(value, float, f"{where}.{key}")
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
            ):
                raise SettingsError(f"{where}.{key} should be a list of whole days, like [3, 1]")
            values[key] = tuple(sorted(set(value), reverse=True))
        else:
            values[key] = _typed(value, str, f"{where}.{key}")
    return cls(**values)


def _schedule(name: str, table: Mapping[str, Any]) -> RecurringSchedule:
    required = {"process_key", "every_years", "first_year", "month", "day"}
    missing = sorted(required - set(table))
    if missing:
        raise SettingsError(f"[recurring.{name}] needs {', '.join(missing)}")
    fields = RecurringSchedule.__dataclass_fields__
    _check_keys(table, set(fields) - {"name"}, f"recurring.{name}")
    kinds = {"process_key": str, "year_field": str, "enabled": bool}
    values = {
        key: _typed(value, kinds.get(key, int), f"recurring.{name}.{key}")
        for key, value in table.items()
    }
    schedule = RecurringSchedule(name=name, **values)
    if schedule.every_years < 1:
        raise SettingsError(f"recurring.{name}.every_years should be 1 or more")
    if not 1 <= schedule.month <= 12 or not 1 <= schedule.day <= 28:
        raise SettingsError(
            f"recurring.{name} should start on a day that every year has (month 1-12, day 1-28)"
        )
    if not 0 <= schedule.hour_utc <= 23:
        raise SettingsError(f"recurring.{name}.hour_utc should be 0 to 23")
    return schedule


def _smtp_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    names = {
        "IISG_SMTP_HOST": ("host", str),
        "IISG_SMTP_PORT": ("port", int),
        "IISG_SMTP_STARTTLS": ("starttls", bool),
        "IISG_SMTP_USERNAME": ("username", str),
        "IISG_SMTP_PASSWORD": ("password", str),
        "IISG_MAIL_FROM": ("sender", str),
    }
    for variable, (key, kind) in names.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        if kind is int:
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise SettingsError(f"{variable} should be a port number (1-65535), not {raw!r}")
            found[key] = int(raw)
        elif kind is bool:
            found[key] = flag(variable, raw)
        else:
            found[key] = raw
    return found


def minimum_notice_from(environ: Mapping[str, str]) -> timedelta:
    """How far ahead a deadline a person sets must lie (IISG_SILENT_PROCEDURE_MIN_NOTICE,
    an ISO 8601 duration; PT24H when unset)."""
    raw = environ.get(MIN_NOTICE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MIN_NOTICE
    found = _DURATION.fullmatch(raw.upper())
    if found is None or raw.upper() in {"P", "PT"}:
        raise SettingsError(
            f"{MIN_NOTICE_VARIABLE} should be an ISO 8601 duration in weeks, days, hours, "
            f"minutes or seconds, like PT24H, P2D or PT0S (no notice); not {raw!r}"
        )
    parts = {unit: int(n) for unit, n in found.groupdict().items() if n}
    if sum(n * _SECONDS[unit] for unit, n in parts.items()) > MAX_MIN_NOTICE.total_seconds():
        raise SettingsError(f"{MIN_NOTICE_VARIABLE} should be at most a year (P365D); not {raw!r}")
    return timedelta(**parts)


def settings_path(environ: Mapping[str, str], instance_dir: Path) -> Path | None:
    """The settings file in use, if any: IISG_SETTINGS, else settings.toml in the instance."""
    if environ.get("IISG_SETTINGS", "").strip():
        return Path(environ["IISG_SETTINGS"].strip())
    candidate = instance_dir / "settings.toml"
    return candidate if candidate.exists() else None


def parse_settings(
    document: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> ProcedureSettings:
    """Settings from a parsed TOML document, with the SMTP variables of `environ` on top."""
    env = {} if environ is None else environ
    _check_keys(document, {"reminders", "recurring", "mail", "scheduler"}, "settings")
    reminders = _section(ReminderSettings, document.get("reminders", {}), "reminders")
    recurring_table = document.get("recurring")
    recurring = (
        _default_schedules()
        if recurring_table is None
        else tuple(_schedule(name, table) for name, table in recurring_table.items())
    )
    mail_table = dict(document.get("mail", {}))
    smtp_table = dict(mail_table.pop("smtp", {}))
    smtp_table.update(_smtp_from_environment(env))
    smtp = None
    if smtp_table:
        if not smtp_table.get("host"):
            raise SettingsError("[mail.smtp] needs a host (or set IISG_SMTP_HOST)")
        smtp = _section(SmtpSettings, smtp_table, "mail.smtp")
    mail = _section(MailSettings, mail_table, "mail", smtp=smtp)
    scheduler = document.get("scheduler", {})
    _check_keys(scheduler, {"safety_interval_seconds"}, "scheduler")
    interval = _typed(
        scheduler.get("safety_interval_seconds", 60.0), float, "scheduler.safety_interval_seconds"
    )
    return ProcedureSettings(
        reminders=reminders, recurring=recurring, mail=mail, safety_interval_seconds=interval
    )


def load_settings(environ: Mapping[str, str], instance_dir: Path) -> ProcedureSettings:
    """The settings: the file (if any), then the SMTP variables of `environ`."""
    path = settings_path(environ, instance_dir)
    document: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise SettingsError(f"the settings file {path} does not exist") from err
        except tomllib.TOMLDecodeError as err:
            raise SettingsError(f"the settings file {path} is not valid TOML: {err}") from err
    return parse_settings(document, environ)
