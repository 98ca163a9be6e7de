"""A list of entries (an array of objects) as a repeated group of rows, without script.

Each row's fields are posted as `<list>-<row>-<field>`, like `needs-0-kind`. Rows left empty
are dropped, and the kept rows are numbered again in order, so row 1 on the page is entry 0
for the engine and its errors (`needs/0/description`) come back to the right row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webui.forms_html.fields import (
    FormField,
    Schema,
    as_text,
    label_of,
    make_field,
    typed_value,
)

ADD_ROW = "_add_row"  # the name of the "Add another row" buttons; their value names the list
ROWS_AT_LEAST = 3
# Without maxItems the blank rows a page offers still stop somewhere.
ROWS_AT_MOST = 100


@dataclass(frozen=True)
class Row:
    """One entry of a list: its fields, named after the list and the row's number."""

    html_id: str
    label: str  # "Need 2"
    fields: tuple[FormField, ...]
    error: str | None = None

    @property
    def error_id(self) -> str:
        """The id of the row's own error text."""
        return f"{self.html_id}-error"


@dataclass(frozen=True)
class FieldGroup:
    """A list of entries as the task page shows it: a fieldset of rows and an add button."""

    name: str
    label: str
    help: str
    required: bool
    rows: tuple[Row, ...]
    can_add: bool
    error: str | None = None
    row_added: bool = False  # this page answers a press of the group's add button
    widget: str = "group"

    @property
    def html_id(self) -> str:
        """The id of the group's fieldset."""
        return f"field-{self.name}"

    @property
    def count_name(self) -> str:
        """The hidden field that tells the next page how many rows this one showed."""
        return _count_name(self.name)

    @property
    def described_by(self) -> str:
        """The ids of the help and error texts a screen reader reads with the group."""
        ids = [
            f"{self.html_id}-help" if self.help else "",
            f"{self.html_id}-rows-help",
            f"{self.html_id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """(anchor id, words) for the summary of errors, the group's then each row's."""
        found = [(self.html_id, f"{self.label}: {self.error}")] if self.error else []
        for row in self.rows:
            if row.error:
                found.append((row.html_id, f"{row.label}: {row.error}"))
            found += [
                (f.html_id, f"{row.label}, {f.label}: {f.error}") for f in row.fields if f.error
            ]
        return tuple(found)


def _count_name(name: str) -> str:
    return f"{name}-rows"


def _item_properties(prop: Schema) -> dict[str, Schema]:
    properties: dict[str, Schema] = prop.get("items", {}).get("properties", {})
    return properties


def posted_rows(name: str, prop: Schema, form: Mapping[str, str]) -> list[dict[str, str]]:
    """The rows of list `name` the person filled in, in row order, as posted text by field."""
    properties = _item_properties(prop)
    pattern = re.compile(rf"{re.escape(name)}-(\d{{1,6}})-(.+)")
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        found = pattern.fullmatch(key)
        if found and found.group(2) in properties:
            rows.setdefault(int(found.group(1)), {})[found.group(2)] = form[key]
    return [
        rows[index] for index in sorted(rows) if any(raw.strip() for raw in rows[index].values())
    ]


def parse_group(prop: Schema, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The filled-in rows as typed entries; the fields left empty are left out."""
    properties = _item_properties(prop)
    return [
        {field: typed_value(properties[field], raw) for field, raw in row.items() if raw.strip()}
        for row in rows
    ]


def _default_rows(prop: Schema) -> list[dict[str, str]]:
    default = prop.get("default")
    if not isinstance(default, list):
        return []
    return [
        {field: as_text(value) for field, value in entry.items()}
        for entry in default
        if isinstance(entry, dict)
    ]


def _rows_shown(prop: Schema, filled: int, form: Mapping[str, str], count_name: str) -> int:
    """How many rows to show: the filled ones and a few empty ones, within the form's limits."""
    try:
        shown_before = int(form.get(count_name, "0"))
    except ValueError:
        shown_before = 0
    wanted = max(ROWS_AT_LEAST, int(prop.get("minItems", 0)), filled + 1, shown_before)
    limit = int(prop.get("maxItems", ROWS_AT_MOST))
    # Rows beyond the limit that were filled in stay, so the form can say there are too many.
    return max(filled, min(wanted, limit))


def _split_errors(
    name: str, errors: Mapping[str, str], shown: int
) -> tuple[list[str], list[dict[str, str]]]:
    """The list's own errors, and each shown row's errors by the path inside the row."""
    own = [errors[name]] if name in errors else []
    by_row: list[dict[str, str]] = [{} for _ in range(shown)]
    prefix = f"{name}/"
    for key, reason in errors.items():
        if not key.startswith(prefix):
            continue
        index, _, path = key.removeprefix(prefix).partition("/")
        if index.isdigit() and int(index) < shown:
            by_row[int(index)][path] = reason
        else:
            own.append(f"{key.removeprefix(prefix)}: {reason}")
    return own, by_row


def make_group(
    name: str,
    prop: Schema,
    *,
    form: Mapping[str, str],
    errors: Mapping[str, str],
    required: bool,
    add_row: bool = False,
) -> FieldGroup:
    """The repeated group for list `name`, filled from the posted form (or the default)."""
    items: Schema = prop.get("items", {})
    item_required = set(items.get("required", []))
    item_label = str(items.get("title") or "Entry")
    filled = posted_rows(name, prop, form) if form else _default_rows(prop)
    limit = int(prop.get("maxItems", ROWS_AT_MOST))
    shown = _rows_shown(prop, len(filled), form, _count_name(name))
    grown = add_row and shown < limit
    if grown:
        shown += 1
    own_errors, row_errors = _split_errors(name, errors, shown)
    rows = []
    for index, problems in enumerate(row_errors):
        values = filled[index] if index < len(filled) else {}
        fields = tuple(
            make_field(
                f"{name}-{index}-{field}",
                field_prop,
                value=values.get(field, ""),
                error=problems.pop(field, None),
                required=field in item_required,
                in_row=True,
            )
            for field, field_prop in _item_properties(prop).items()
        )
        # What is left belongs to the row as a whole (or to a field the form does not show).
        rest = [f"{path}: {reason}" if path else reason for path, reason in problems.items()]
        rows.append(
            Row(
                html_id=f"field-{name}-row-{index}",
                label=f"{item_label} {index + 1}",
                fields=fields,
                error="; ".join(rest) or None,
            )
        )
    return FieldGroup(
        name=name,
        label=label_of(name, prop),
        help=str(prop.get("description", "")).strip(),
        required=required,
        rows=tuple(rows),
        can_add=shown < limit,
        error="; ".join(own_errors) or None,
        row_added=grown,
    )
