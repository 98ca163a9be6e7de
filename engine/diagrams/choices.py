"""Choices that depend on the task: a form field marked `"choicesFrom": "<source>"` takes its
values from a named source (the applications on a Board list, a partner's open needs), and
the form made for one task carries them as an `enum` with their `enumNames`.

The engine checks an answer against the form made for its task, so a value outside the list
is refused naming the field, whoever answers (the page, the API, a demo): one rule. Sources
are registered here by name, as service operations are (see engine/services.py): the engine's
own, `items`, reads the task's data; the layers above register the ones that read their
tables. A diagram naming a source that is not registered is refused when it is checked.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.diagrams.forms import CHOICES_KEYWORD, CheckedForm, checked_form, compiled_form


@dataclass(frozen=True)
class ChoiceScope:
    """What a source reads: the unit of work, the task's scope (its partner and pillar) and
    the task's data."""

    session: Session
    organisation: str | None = None
    pillar: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


Choices = list[tuple[Any, str]]  # (the value a form takes, the words a person reads)
Source = Callable[[ChoiceScope], Choices]


@dataclass(frozen=True)
class _Registered:
    read: Source
    nothing: str  # what a page says when the list is empty


_sources: dict[str, _Registered] = {}


def register_choices(name: str, *, nothing: str) -> Callable[[Source], Source]:
    """Register a source of choices as `name` (a decorator); `nothing` says, in a sentence,
    that its list is empty for this task."""

    def decorate(read: Source) -> Source:
        _sources[name] = _Registered(read, nothing)
        return read

    return decorate


def choice_sources() -> frozenset[str]:
    """The names a form's CHOICES_KEYWORD may give."""
    return frozenset(_sources)


def nothing_to_choose(source: str) -> str:
    """The sentence a page shows instead of an empty list from `source`."""
    found = _sources.get(source)
    return found.nothing if found else "There is nothing to choose from for this task."


@register_choices(
    "items",
    nothing="There is no list of applications in this procedure: leave this field empty.",
)
def _items(scope: ChoiceScope) -> Choices:
    """The applications on a Board list: the task's `items`, each {"key", "title"}."""
    listed = scope.data.get("items") or []
    return [
        (str(item["key"]), f"{item.get('title') or item['key']} ({item['key']})")
        for item in listed
        if isinstance(item, Mapping) and item.get("key") is not None
    ]


def choice_fields(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, field) of every field the schema marks with CHOICES_KEYWORD, in array items and
    nested objects too (paths as "responses/need_id")."""
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if CHOICES_KEYWORD in prop:
            yield name, prop
        for inner, found in choice_fields(prop.get("items")):
            yield f"{name}/{inner}", found
        for inner, found in choice_fields(prop):
            yield f"{name}/{inner}", found


def _allows_null(prop: Mapping[str, Any]) -> bool:
    kind = prop.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _resolve(schema: dict[str, Any], scope: ChoiceScope, read: dict[str, Choices]) -> None:
    for prop in (schema.get("properties") or {}).values():
        if not isinstance(prop, dict):
            continue
        source = prop.get(CHOICES_KEYWORD)
        if isinstance(source, str) and source in _sources:
            if source not in read:
                read[source] = _sources[source].read(scope)
            values = [value for value, _ in read[source]]
            names = [label for _, label in read[source]]
            items = prop.get("items")
            # A list takes the values in its entries; the mark goes with them, so a refusal
            # speaks of the list.
            target = items if isinstance(items, dict) else prop
            target[CHOICES_KEYWORD] = source
            if target is prop and _allows_null(prop):
                values, names = [*values, None], [*names, "None"]
            target["enum"], target["enumNames"] = values, names
        if isinstance(prop.get("items"), dict):
            _resolve(prop["items"], scope, read)
        _resolve(prop, scope, read)


def resolve_choices(schema: dict[str, Any] | None, scope: ChoiceScope) -> dict[str, Any] | None:
    """The form made for one task: each field marked with CHOICES_KEYWORD gets its source's
    values as `enum` and their words as `enumNames` (a list's entries get them); a copy, the
    form file's own schema untouched. Each source is read once."""
    if schema is None or next(choice_fields(schema), None) is None:
        return schema
    resolved = copy.deepcopy(schema)
    _resolve(resolved, scope, {})
    return resolved


def checked_task_form(
    files: dict[str, str], name: str | None, scope: ChoiceScope
) -> CheckedForm | None:
    """The form named `name` made for one task (see resolve_choices), ready to check an
    answer; the shared compiled form when it offers no choices of the task's."""
    form = checked_form(files, name)
    if form is None or next(choice_fields(form.schema), None) is None:
        return form
    resolved = resolve_choices(form.schema, scope)
    assert resolved is not None  # the form has a schema, so its resolution has one
    return compiled_form(resolved)
