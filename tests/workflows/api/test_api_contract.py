"""A shape of the API, written once as a dataclass, gives both its JSON and its JSON Schema,
and the one always fits the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from jsonschema import Draft202012Validator

from workflows.api.contract import as_json, described, json_schemas


@dataclass
class Seat:
    """A seat."""

    code: str


@dataclass
class Meeting:
    """A meeting."""

    held_at: datetime
    seats: list[Seat]
    chair: Seat | None
    outcome: Annotated[str | None, described("How it ended", enum=["adopted", None])]
    minutes: Annotated[int | None, described("Pages of minutes, when written")] = None


def test_a_shape_gives_its_json_and_a_schema_the_json_fits() -> None:
    schemas = json_schemas(Meeting)
    meeting = Meeting(datetime(2025, 3, 1, 10), [Seat("AL")], None, None)

    found = as_json(meeting)

    assert found == {
        "held_at": "2025-03-01T10:00:00+00:00",
        "seats": [{"code": "AL"}],
        "chair": None,
        "outcome": None,
    }
    assert set(schemas) == {"Meeting", "Seat"}
    assert schemas["Meeting"]["required"] == ["held_at", "seats", "chair", "outcome"]
    assert schemas["Meeting"]["properties"]["minutes"] == {
        "type": "integer",
        "description": "Pages of minutes, when written",
    }
    whole = {"$ref": "#/components/schemas/Meeting", "components": {"schemas": schemas}}
    checker = Draft202012Validator(whole, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert checker.is_valid(found)
    assert checker.is_valid(as_json(Meeting(meeting.held_at, [], Seat("BA"), "adopted", 3)))
    assert not checker.is_valid({**found, "outcome": "postponed"})
    assert not checker.is_valid({**found, "minutes": None})
    assert not checker.is_valid({**found, "agenda": []})
