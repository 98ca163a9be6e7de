"""A whole task form: its fields for the page, and the posted form back as data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from webui.forms_html.fields import (
    FormField,
    Schema,
    allows_null,
    as_text,
    choices_for,
    default_text,
    label_of,
    make_field,
    typed_value,
    widget_for,
)
from webui.forms_html.groups import FieldGroup, make_group, parse_group, posted_rows
from webui.forms_html.moments import (
    DEFAULT_TIME_ZONE,
    TIME_ZONE_FIELD,
    LocalMomentInvalid,
    moment_from_local,
    moment_words,
    zone_named,
)


def form_fields(
    schema: Schema | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    add_row: str | None = None,
) -> list[FormField | FieldGroup]:
    """The fields of a form, filled with `values` and marked with `errors` (both by name).

    `add_row` names the list whose "Add another row" button was pressed: it gets a row more.
    """
    if schema is None:
        return []
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    fields: list[FormField | FieldGroup] = []
    for name, prop in schema.get("properties", {}).items():
        if widget_for(prop) == "group":
            fields.append(
                make_group(
                    name,
                    prop,
                    form=values,
                    errors=errors,
                    required=name in required,
                    add_row=name == add_row,
                )
            )
            continue
        fields.append(
            make_field(
                name,
                prop,
                value=values[name] if name in values else default_text(prop),
                error=_field_error(name, errors),
                required=name in required,
            )
        )
    return fields


def _field_error(name: str, errors: Mapping[str, str]) -> str | None:
    """The error for a field; for a list of lines, also those about one line (`documents/1`)."""
    found = [errors[name]] if name in errors else []
    prefix = f"{name}/"
    found += [
        f"line {int(key.removeprefix(prefix)) + 1}: {reason}"
        if key.removeprefix(prefix).isdigit()
        else f"{key.removeprefix(prefix)}: {reason}"
        for key, reason in errors.items()
        if key.startswith(prefix)
    ]
    return "; ".join(found) or None


def errors_outside_fields(schema: Schema | None, errors: Mapping[str, str]) -> list[str]:
    """Problems that belong to no field of the form, in words for the top of the page."""
    names = set((schema or {}).get("properties", {}))
    return [
        reason if name == "(form)" else f"{name}: {reason}"
        for name, reason in errors.items()
        if name.split("/", 1)[0] not in names
    ]


def _parse_list(
    name: str, prop: Schema, form: Mapping[str, str], required: bool
) -> tuple[bool, Any]:
    """(whether to send it, the list): a list left empty is sent as [] when the form requires
    it, so the schema judges it; as null when the form allows that; otherwise not at all."""
    if widget_for(prop) == "group":
        entries: list[Any] = parse_group(prop, posted_rows(name, prop, form))
    else:
        entries = typed_value(prop, form.get(name, ""))
    if entries or required:
        return True, entries
    return allows_null(prop), None


def parse_submission(
    schema: Schema | None, form: Mapping[str, str], default_zone: str = DEFAULT_TIME_ZONE
) -> dict[str, Any]:
    """The posted form as typed data for the schema; empty fields are left out. Dates and
    times picked in the person's zone (see read_moments) are moments with their offset."""
    if schema is None:
        return {}
    form, _problems = read_moments(schema, form, default_zone)
    required = set(schema.get("required", []))
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if widget_for(prop) == "documents":
            continue  # files and ids of uploads: the page reads them (see document_ids)
        if widget_for(prop) in {"group", "lines"}:
            send, entries = _parse_list(name, prop, form, name in required)
            if send:
                data[name] = entries
            continue
        raw = form.get(name)
        if raw is None or not raw.strip():
            continue  # not answered: the schema says whether it had to be
        data[name] = typed_value(prop, raw)
    return data


def _answer_text(prop: Schema, value: Any) -> str:
    if isinstance(value, list):
        items: Schema = prop.get("items", {})
        if all(isinstance(v, dict) for v in value):
            label = str(items.get("title") or "Entry")
            return "\n".join(
                f"{label} {number}: "
                + "; ".join(
                    f"{field}: {answer}" for field, answer in submitted_answers(items, entry)
                )
                for number, entry in enumerate(value, start=1)
            )
        return "\n".join(_answer_text(items, v) for v in value)
    choice = next((c for c in choices_for(prop, True) if c.value == as_text(value)), None)
    if choice:
        return choice.label
    words = moment_words(value) if widget_for(prop) == "datetime" else None
    return words or as_text(value)


def submitted_answers(schema: Schema | None, submitted: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What was submitted, as (label, answer) pairs in the form's order, in plain words."""
    properties: dict[str, Schema] = (schema or {}).get("properties", {})
    ordered = [n for n in properties if n in submitted]
    ordered += [n for n in submitted if n not in properties]
    return [
        (
            label_of(name, properties.get(name, {})),
            _answer_text(properties.get(name, {}), submitted[name]),
        )
        for name in ordered
    ]


def _filled_rows(name: str, items: Mapping[str, Schema], form: Mapping[str, str]) -> list[int]:
    """The numbers of the rows of list `name` with anything typed, in order (see groups)."""
    pattern = re.compile(rf"{re.escape(name)}-(\d{{1,6}})-(.+)")
    numbers = {
        int(found.group(1))
        for key in form
        if (found := pattern.fullmatch(key)) and found.group(2) in items
    }
    return [
        n for n in sorted(numbers) if any(form.get(f"{name}-{n}-{f}", "").strip() for f in items)
    ]


def read_moments(
    schema: Schema | None, form: Mapping[str, str], default_zone: str = DEFAULT_TIME_ZONE
) -> tuple[dict[str, str], dict[str, str]]:
    """The posted form with every picked date and time read as a moment with its offset, and
    the ones that name no moment by the engine's path of their field (`deadline`,
    `meetings/0/held_at`), each with the words that say why; those stay as typed."""
    zone = zone_named(form.get(TIME_ZONE_FIELD), default_zone)
    read = {key: form[key] for key in form}
    problems: dict[str, str] = {}

    def convert(key: str, path: str) -> None:
        raw = form.get(key, "")
        if not raw.strip():
            return
        try:
            read[key] = moment_from_local(raw, zone)
        except LocalMomentInvalid as invalid:
            problems[path] = str(invalid)

    for name, prop in (schema or {}).get("properties", {}).items():
        if widget_for(prop) == "datetime":
            convert(name, name)
        elif widget_for(prop) == "group":
            items: dict[str, Schema] = prop.get("items", {}).get("properties", {})
            moments = [f for f, item in items.items() if widget_for(item) == "datetime"]
            for position, number in enumerate(_filled_rows(name, items, form) if moments else []):
                for field in moments:
                    convert(f"{name}-{number}-{field}", f"{name}/{position}/{field}")
    return read, problems


def form_time_zone(form: Mapping[str, str] | None, default_zone: str = DEFAULT_TIME_ZONE) -> str:
    """The name of the zone a form's dates and times are read in: the one it posted (when
    this system knows it), else `default_zone`."""
    return zone_named((form or {}).get(TIME_ZONE_FIELD), default_zone).key
