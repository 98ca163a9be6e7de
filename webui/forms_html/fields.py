"""One schema property as one HTML control, and one posted value back as typed data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext

from engine.diagrams.choices import nothing_to_choose
from engine.diagrams.forms import CHOICES_KEYWORD
from webui.forms_html.moments import local_text
from workflows.inbox.attaching import DOCUMENTS_KEYWORD
from workflows.inbox.documents import ACCEPTED

Schema = dict[str, Any]

# Longer strings get a text area; also when the form sets no limit at all.
TEXTAREA_FROM_LENGTH = 200
RADIO_UP_TO = 5
# The note naming the time zone a form reads its dates and times in (see _fields.html).
TIME_ZONE_NOTE_ID = "form-time-zone"
LINES_HELP = lazy_gettext("Write each one on its own line.")


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
    widget: str  # text, textarea, lines, radio, select, number, date, datetime, documents
    value: str  # what the person entered last time, or the form's default
    error: str | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    placeholder: str | None = None
    in_row: bool = False  # part of a repeated group's row, which may be left empty
    nothing: str | None = None  # said instead of a list the task leaves empty

    @property
    def html_id(self) -> str:
        """The id of the control (or of the group, for radio buttons)."""
        return f"field-{self.name}"

    @property
    def described_by(self) -> str:
        """The ids of the help and error texts a screen reader reads with the control."""
        ids = [
            f"{self.html_id}-help" if self.help else "",
            TIME_ZONE_NOTE_ID if self.widget == "datetime" else "",
            f"{self.html_id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)

    @property
    def browser_required(self) -> bool:
        """Whether the browser may insist on an answer: not in a row that may stay empty."""
        return self.required and not self.in_row

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """(anchor id, words) for the summary of errors at the top of the form."""
        return ((self.html_id, f"{self.label}: {self.error}"),) if self.error else ()


def kind_of(prop: Schema) -> str:
    """The property's JSON type; for ["string", "null"] the first real type."""
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def allows_null(prop: Schema) -> bool:
    """Whether the schema accepts null for the property."""
    kind = prop.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def as_text(value: Any) -> str:
    """A schema value as the text a form posts for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def humane(name: str) -> str:
    """A property name made readable, for forms that give no title."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def label_of(name: str, prop: Schema) -> str:
    """The words a person reads for the property."""
    return str(prop.get("title") or humane(name))


def widget_for(prop: Schema) -> str:
    """The control that asks for the property."""
    if prop.get(DOCUMENTS_KEYWORD):
        return "documents"  # files to upload (and ones uploaded before), attached at start
    kind = kind_of(prop)
    if kind == "array":
        return "group" if kind_of(prop.get("items", {})) == "object" else "lines"
    if "enum" in prop:
        # A list made for the task (choicesFrom) is always a select, however long it is.
        if CHOICES_KEYWORD in prop or len(prop["enum"]) > RADIO_UP_TO:
            return "select"
        return "radio"
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


def choices_for(prop: Schema, required: bool) -> tuple[Choice, ...]:
    """The options of a radio group or select, labelled by the form's enumNames."""
    if "enum" in prop:
        options = list(prop["enum"])
        names = prop.get("enumNames")
        if not (isinstance(names, list) and len(names) == len(options)):
            names = [humane(o) if isinstance(o, str) else as_text(o) for o in options]
        found = [Choice(as_text(o), str(n)) for o, n in zip(options, names, strict=True)]
        if widget_for(prop) == "select":  # its first option, "Choose…", is the empty one
            found = [c for c in found if c.value]
    elif kind_of(prop) == "boolean":
        found = [Choice("true", gettext("Yes")), Choice("false", gettext("No"))]
    else:
        return ()
    # Without script a chosen radio button cannot be unchosen: optional groups offer a way
    # back, unless the form already offers one (null among the options).
    if not required and widget_for(prop) == "radio" and all(c.value for c in found):
        found.append(Choice("", gettext("No answer")))
    return tuple(found)


def _help(prop: Schema, widget: str) -> str:
    text = str(prop.get("description", ""))
    if widget == "lines":
        text = f"{text} {LINES_HELP}"
    if widget == "documents":
        text = f"{text} {gettext('Files of these types: %(types)s.', types=ACCEPTED)}"
    return text.strip()


def _number_text(prop: Schema, key: str) -> str | None:
    return as_text(prop[key]) if key in prop else None


def default_text(prop: Schema) -> str:
    """The form's default as the text its control shows."""
    default = prop.get("default")
    if isinstance(default, list):
        return "\n".join(as_text(v) for v in default)
    return as_text(default)


def make_field(
    name: str,
    prop: Schema,
    *,
    value: str,
    error: str | None,
    required: bool,
    in_row: bool = False,
) -> FormField:
    """The control for one property; `name` is what the browser posts it as."""
    widget = widget_for(prop)
    kind = kind_of(prop)
    return FormField(
        name=name,
        label=label_of(name, prop),
        help=_help(prop, widget),
        required=required,
        widget=widget,
        # A date and time with its offset (a form's default) as the picker shows it.
        value=local_text(value) if widget == "datetime" else value,
        error=error,
        # A row may be left empty as a whole, so each of its radio groups needs a way back.
        choices=choices_for(prop, required and not in_row),
        max_length=prop.get("maxLength") if kind == "string" else None,
        minimum=_number_text(prop, "minimum"),
        maximum=_number_text(prop, "maximum"),
        step=("1" if kind == "integer" else "any") if widget == "number" else None,
        in_row=in_row,
        nothing=_nothing(prop, widget),
    )


def _nothing(prop: Schema, widget: str) -> str | None:
    """The sentence a page says instead of a select the task leaves without choices."""
    if widget != "select" or CHOICES_KEYWORD not in prop or any(prop.get("enum") or ()):
        return None
    return nothing_to_choose(str(prop[CHOICES_KEYWORD]))


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


def lines_of(raw: str) -> list[str]:
    """The non-empty lines of a text area, stripped, in order."""
    return [line.strip() for line in raw.splitlines() if line.strip()]


def typed_value(prop: Schema, raw: str) -> Any:
    """One posted, non-empty value typed as the schema wants it (or left as text)."""
    raw = raw.replace("\r\n", "\n")
    # Give back the option itself, typed as the schema wrote it; a value off the list typed
    # as its field's kind, so the refusal speaks of the list.
    chosen = [o for o in prop.get("enum", ()) if as_text(o) == raw]
    if chosen:
        return chosen[0]
    kind = kind_of(prop)
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in {"integer", "number"}:
        return _number(raw, kind)
    widget = widget_for(prop)
    if widget == "lines":
        return lines_of(raw)
    return raw if widget == "textarea" else raw.strip()
