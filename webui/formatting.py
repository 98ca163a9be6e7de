"""How dates, scopes and the methodology's text read on a page (Jinja filters)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask_babel import gettext, ngettext

from models import HumanTask
from workflows.people.roles import KOSOVO_FOOTNOTE, partner_name

_BLANK_LINE = re.compile(r"\n\s*\n")


def when(moment: datetime | None) -> str:
    """A moment in plain words; UTC is said out loud, as the engine's messages do."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC").lstrip("0")


def iso(moment: datetime | None) -> str:
    """A moment for a <time datetime> attribute."""
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def duration(span: timedelta) -> str:
    """A time left or past, roughly, as a person says it: 2 hours, 1 day, 5 minutes."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return str(gettext("less than a minute"))
    if minutes < 60:
        return str(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    if minutes < 24 * 60:
        return str(ngettext("%(num)d hour", "%(num)d hours", minutes // 60))
    return str(ngettext("%(num)d day", "%(num)d days", minutes // (24 * 60)))


def paragraphs(text: str | None) -> list[str]:
    """The text split at blank lines, each paragraph still plain (Jinja escapes it)."""
    return [p.strip() for p in _BLANK_LINE.split((text or "").replace("\r\n", "\n")) if p.strip()]


def scope(task: HumanTask) -> str:
    """Whose task it is within its role: the partner or seat by its name (Albania, not AL)
    and the pillar, when the task names them."""
    parts = [
        partner_name(task.organisation),
        gettext("pillar %(pillar)s", pillar=task.pillar) if task.pillar else "",
    ]
    return " · ".join(p for p in parts if p)


def init_app(app: Flask) -> None:
    """Make the filters available to every template."""
    app.add_template_filter(when)
    app.add_template_filter(iso)
    app.add_template_filter(paragraphs)
    app.add_template_filter(duration)
    app.add_template_filter(scope)
    app.jinja_env.globals["kosovo_footnote"] = KOSOVO_FOOTNOTE
