"""The answers a dry run makes up: the smallest answer each form accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.diagrams.forms import example_answer, validate_submission
from engine.errors import FormInvalid
from tests.conftest import START

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"


def form(**schema: Any) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"} | schema


def test_required_fields_get_the_least_value_of_their_kind() -> None:
    schema = form(
        required=["choice", "count", "share", "text", "agreed", "on", "at", "mail", "code"],
        properties={
            "choice": {"type": "string", "enum": ["second", "first"]},
            "count": {"type": "integer", "minimum": 3},
            "share": {"type": "number", "exclusiveMinimum": 0.5},
            "text": {"type": "string", "minLength": 4},
            "agreed": {"type": "boolean"},
            "on": {"type": "string", "format": "date"},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{2}$"},
            "optional": {"type": "string"},
        },
    )

    assert example_answer(schema, START) == {
        "choice": "second",
        "count": 3,
        "share": 1.5,
        "text": "aaaa",
        "agreed": False,
        "on": "2026-11-23",
        "at": "2026-11-23T09:00:00+00:00",
        "mail": "someone@example.org",
        "code": "AAA",
    }


def test_a_condition_that_holds_adds_the_fields_it_requires() -> None:
    schema = json.loads((BPMN_DIR / "membership_start.json").read_text())

    answer = example_answer(schema, START)

    assert answer["member_group"] == "international_partner"
    assert answer["partner_type"] == "international_organisation"  # required by its if/then


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_methodology_form_gets_an_answer_it_accepts(path: Path) -> None:
    schema = json.loads(path.read_text())

    assert validate_submission(schema, example_answer(schema, START)) is not None


def test_a_form_no_answer_can_satisfy_is_reported() -> None:
    schema = form(
        required=["code"], properties={"code": {"type": "string", "pattern": "^x{3}-[0-9]+$"}}
    )

    with pytest.raises(FormInvalid) as refused:
        example_answer(schema, START)

    assert refused.value.errors == {
        "code": "is not written the way this field expects; ask the Secretariat how to write it"
    }


def test_a_step_without_a_form_is_answered_with_nothing() -> None:
    assert example_answer(None, START) == {}
