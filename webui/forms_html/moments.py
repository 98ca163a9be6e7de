"""Dates and times as people pick them: a wall-clock time in their own time zone (what an
`<input type="datetime-local">` posts, like `2026-12-10T17:00`) read as a moment with its
offset from UTC (`2026-12-10T17:00:00+01:00`), the form the engine and the API keep.

The form carries the zone in a hidden field a small script fills from the browser
(webui/static/time_zone.js); without it, or with a zone this system does not know, the
system's zone (IISG_TIME_ZONE) is used, and the page names the zone it reads times in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext

TIME_ZONE_FIELD = "_time_zone"
DEFAULT_TIME_ZONE = "UTC"
# IANA names are short ("America/Argentina/ComodRivadavia" is among the longest).
_ZONE_NAME_AT_MOST = 64
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class LocalMomentInvalid(ValueError):
    """A picked date and time that names no moment; the message says why, in words."""


def zone_named(name: str | None, default: str = DEFAULT_TIME_ZONE) -> ZoneInfo:
    """The time zone `name` (an IANA name, as browsers give it); `default` when `name` is
    absent or not a zone this system knows."""
    for candidate in (name, default):
        if not candidate or len(candidate) > _ZONE_NAME_AT_MOST:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # ValueError: a name like "../x" that is no key at all
    return ZoneInfo(DEFAULT_TIME_ZONE)


def moment_from_local(raw: str, zone: ZoneInfo) -> str:
    """The moment a wall-clock date and time in `zone` names, in RFC 3339 with its offset.

    A text that already has its offset (RFC 3339, as the API takes it) is kept as typed. At
    the hour the clocks go back, a time that happens twice is read as the first of the two
    (its offset says which); a time skipped when the clocks go forward is refused.
    """
    text = raw.strip()
    if _DAY.fullmatch(text):
        raise LocalMomentInvalid(gettext("give the time as well as the date"))
    try:
        given = datetime.fromisoformat(text)
    except ValueError:
        given = None
    if given is not None and given.tzinfo is not None:
        return text
    if given is None or not _LOCAL.fullmatch(text):
        raise LocalMomentInvalid(
            gettext("choose a date and a time (year-month-day and hours:minutes)")
        )
    moment = given.replace(tzinfo=zone)
    try:
        again = moment.astimezone(UTC).astimezone(zone)
    except OverflowError:
        again = moment  # years beyond what the engine keeps: it says so itself
    if again.replace(tzinfo=None) != given:
        raise LocalMomentInvalid(
            gettext(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward then. "
                "Choose a later time",
                time=f"{given:%H:%M}",
                day=f"{given.day} {given:%B %Y}",
                zone=zone.key,
            )
        )
    return moment.isoformat(timespec="seconds")


def local_text(value: str) -> str:
    """A moment's text as a datetime-local control shows it: its wall-clock time where its
    offset is (a text that names no moment is left as it is)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.replace(tzinfo=None).isoformat(timespec="minutes")


def moment_words(value: Any) -> str | None:
    """A stored moment in words with its offset, like "10 December 2026, 17:00 (UTC+01:00)";
    None when `value` is no moment with an offset."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    offset = moment.utcoffset()
    if offset is None:
        return None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{moment.day} {moment:%B %Y, %H:%M} (UTC{sign}{hours:02d}:{rest:02d})"
