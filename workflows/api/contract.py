"""The API's contract, kept in one place: each shape the API sends or takes is a dataclass,
and both the JSON of a value and the JSON Schema the OpenAPI document lists are made from it.

A field's type gives its schema (str, int, bool, datetime as a date-time string, lists,
nested dataclasses, unions with None for null); `Annotated[type, described(...)]` adds its
words and any JSON Schema keyword a type cannot say (an enum, a pattern). A field whose
default is None may be left out: it is not required, and its JSON leaves it out while None.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import MISSING, Field, dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

SCHEMAS = "#/components/schemas/"

_PLAIN: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    datetime: {"type": "string", "format": "date-time"},
}


def ref(name: str) -> dict[str, str]:
    """A reference to one of the document's named schemas."""
    return {"$ref": SCHEMAS + name}


@dataclass(eq=False)
class Description:
    """A field's words in the document, and JSON Schema keywords its type cannot say."""

    words: str
    keywords: dict[str, Any]


def described(words: str, **keywords: Any) -> Description:
    """A field's words and further JSON Schema keywords, for `Annotated`; a `$ref` among
    them stands for the whole schema (a shape written as JSON Schema, not as a dataclass)."""
    return Description(words, keywords)


def iso(moment: datetime) -> str:
    """A moment as ISO 8601 with its offset (stored moments are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _left_out(part: Field[Any], value: Any) -> bool:
    return value is None and part.default is None


def as_json(value: Any) -> Any:
    """A value of the API's shapes as JSON: a dataclass as an object, moments as ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            part.name: as_json(found)
            for part in fields(value)
            if not _left_out(part, found := getattr(value, part.name))
        }
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, datetime):
        return iso(value)
    return value


def _schema(hint: Any, nested: list[type]) -> dict[str, Any]:
    """The JSON Schema of a type; dataclasses met on the way are added to `nested`."""
    if hint is Any:
        return {}
    if hint in _PLAIN:
        return dict(_PLAIN[hint])
    if is_dataclass(hint) and isinstance(hint, type):
        nested.append(hint)
        return ref(hint.__name__)
    origin, args = get_origin(hint), get_args(hint)
    if origin is list:
        return {"type": "array", "items": _schema(args[0], nested)}
    if origin is dict:
        return {"type": "object"}
    if origin in (Union, types.UnionType):
        members = [_schema(arg, nested) for arg in args]
        if any("type" not in member for member in members):
            return {"anyOf": members}
        # Plain types join in one list of types ("string" or "null").
        return {key: value for member in members for key, value in member.items()} | {
            "type": [member["type"] for member in members]
        }
    raise TypeError(f"the API's contract has no JSON Schema for {hint!r}")


def _field_schema(part: Field[Any], hint: Any, nested: list[type]) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        for extra in extras:
            if isinstance(extra, Description):
                keywords |= {**extra.keywords, "description": extra.words}
    if "$ref" in keywords:
        return keywords
    if part.default is None and type(None) in get_args(hint):
        # May be left out, and is then absent rather than null.
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    return _schema(hint, nested) | keywords


def json_schemas(*shapes: type) -> dict[str, Any]:
    """The JSON Schema of each shape and of every shape within it, by class name."""
    found: dict[str, Any] = {}
    waiting = list(shapes)
    while waiting:
        shape = waiting.pop(0)
        if shape.__name__ in found:
            continue
        hints = get_type_hints(shape, include_extras=True)
        parts = fields(shape)
        found[shape.__name__] = {
            "type": "object",
            "description": inspect.getdoc(shape),
            "required": [p.name for p in parts if p.default is MISSING],
            "properties": {p.name: _field_schema(p, hints[p.name], waiting) for p in parts},
            "additionalProperties": False,
        }
    return found
