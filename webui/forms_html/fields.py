"""A task's JSON Schema as plain HTML fields, and the posted form back as typed data.

Only the shape is decided here (which control, its label, its choices); the templates write
the HTML, so Jinja escapes every value. Checking the data is the engine's job: values that
do not parse are passed on as text, and the schema names what is wrong with them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

# Longer strings get a text area; also when the form sets no limit at all.
TEXTAREA_FROM_LENGTH = 200
RADIO_UP_TO = 5
DATE_TIME_EXAMPLE = "2026-11-30T17:00:00+01:00"


@dataclass(frozen=True)
class Choice:
    """One option of a radio group or a select: the value posted and the words shown."""

    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One field as the task page shows it."""

    name: str
    label: str
    help: str
    required: bool
    widget: str  # text, textarea, radio, select, number, date, datetime
    value: str  # what the person entered last time, or the form's default
    error: str | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    placeholder: str | None = None

    @property
    def html_id(self) -> str:
        """The id of the control (or of the group, for radio buttons)."""
        return f"field-{self.name}"

    @property
    def described_by(self) -> str:
        """The ids of the help and error texts a screen reader reads with the control."""
        ids = [
            f"{self.html_id}-help" if self.help else "",
            f"{self.html_id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)


def _kind(prop: Schema) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):  # ["string", "null"]: the first real type decides the control
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def _as_text(value: Any) -> str:
    """A schema value as the text a form posts for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _humane(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _widget(prop: Schema) -> str:
    kind = _kind(prop)
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= RADIO_UP_TO else "select"
    if kind == "boolean":
        return "radio"
    if kind in {"integer", "number"}:
        return "number"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime"
    limit = prop.get("maxLength")
    return "textarea" if limit is None or limit > TEXTAREA_FROM_LENGTH else "text"


def _choices(prop: Schema, required: bool) -> tuple[Choice, ...]:
    if "enum" in prop:
        options = list(prop["enum"])
        names = prop.get("enumNames")
        if not (isinstance(names, list) and len(names) == len(options)):
            names = [_humane(o) if isinstance(o, str) else _as_text(o) for o in options]
        found = [Choice(_as_text(o), str(n)) for o, n in zip(options, names, strict=True)]
    elif _kind(prop) == "boolean":
        found = [Choice("true", "Yes"), Choice("false", "No")]
    else:
        return ()
    # Without script a chosen radio button cannot be unchosen: optional groups offer a way back.
    if not required and _widget(prop) == "radio":
        found.append(Choice("", "No answer"))
    return tuple(found)


def _help(prop: Schema, widget: str) -> str:
    text = str(prop.get("description", ""))
    if widget == "datetime":
        # A placeholder vanishes while typing; the expected form stays readable here.
        text = f"{text} Write the date, time and offset from UTC, like {DATE_TIME_EXAMPLE}."
    return text.strip()


def _number_text(prop: Schema, key: str) -> str | None:
    return _as_text(prop[key]) if key in prop else None


def form_fields(
    schema: Schema | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    """The fields of a form, filled with `values` and marked with `errors` (both by name)."""
    if schema is None:
        return []
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema.get("properties", {}).items():
        widget = _widget(prop)
        value = values[name] if name in values else _as_text(prop.get("default"))
        kind = _kind(prop)
        fields.append(
            FormField(
                name=name,
                label=str(prop.get("title") or _humane(name)),
                help=_help(prop, widget),
                required=name in required,
                widget=widget,
                value=value,
                error=errors.get(name),
                choices=_choices(prop, name in required),
                max_length=prop.get("maxLength") if kind == "string" else None,
                minimum=_number_text(prop, "minimum"),
                maximum=_number_text(prop, "maximum"),
                step=("1" if kind == "integer" else "any") if widget == "number" else None,
                placeholder=DATE_TIME_EXAMPLE if widget == "datetime" else None,
            )
        )
    return fields


def errors_outside_fields(schema: Schema | None, errors: Mapping[str, str]) -> list[str]:
    """Problems that belong to no field of the form, in words for the top of the page."""
    names = set((schema or {}).get("properties", {}))
    return [
        reason if name == "(form)" else f"{name}: {reason}"
        for name, reason in errors.items()
        if name not in names
    ]


def _number(raw: str, kind: str) -> Any:
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    if kind == "integer":
        return raw
    try:
        number = float(text)
    except ValueError:
        return raw
    return number if math.isfinite(number) else raw


def _typed(prop: Schema, raw: str) -> Any:
    if "enum" in prop:
        # Give back the option itself, typed as the schema wrote it.
        return next((o for o in prop["enum"] if _as_text(o) == raw), raw)
    kind = _kind(prop)
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in {"integer", "number"}:
        return _number(raw, kind)
    return raw if _widget(prop) == "textarea" else raw.strip()


def parse_submission(schema: Schema | None, form: Mapping[str, str]) -> dict[str, Any]:
    """The posted form as typed data for the schema; empty fields are left out."""
    if schema is None:
        return {}
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        raw = form.get(name)
        if raw is None or not raw.strip():
            continue  # not answered: the schema says whether it had to be
        data[name] = _typed(prop, raw.replace("\r\n", "\n"))
    return data


def submitted_answers(schema: Schema | None, submitted: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What was submitted, as (label, answer) pairs in the form's order, in plain words."""
    properties: dict[str, Schema] = (schema or {}).get("properties", {})
    ordered = [n for n in properties if n in submitted]
    ordered += [n for n in submitted if n not in properties]
    answers = []
    for name in ordered:
        prop, value = properties.get(name, {}), submitted[name]
        label = str(prop.get("title") or _humane(name))
        choice = next((c for c in _choices(prop, True) if c.value == _as_text(value)), None)
        answers.append((label, choice.label if choice else _as_text(value)))
    return answers
