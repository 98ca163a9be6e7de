"""Choices made for the task: a field marked `choicesFrom` gets its source's values as an
enum with their labels, in a list's entries too, and an answer is checked against them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.diagrams.choices import ChoiceScope, resolve_choices
from engine.diagrams.forms import compiled_form, validate_submission
from engine.errors import FormInvalid
from tests.conftest import Database

OBJECTION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "concerns": {
            "type": ["array", "null"],
            "title": "Applications your objection concerns",
            "items": {"type": "string"},
            "choicesFrom": "items",
        },
        "reason": {"type": "string"},
    },
}
ON_THE_LIST = {"items": [{"key": "ORGA", "title": "Organisation A"}, {"key": "ORGB", "title": "B"}]}


def made_for(db: Database, data: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    with db.session() as session:
        resolved = resolve_choices(schema, ChoiceScope(session, data=data))
    assert resolved is not None
    return resolved


def test_the_applications_on_the_list_become_the_entries_enum_with_their_names(
    db: Database,
) -> None:
    form = made_for(db, ON_THE_LIST, OBJECTION)

    assert form["properties"]["concerns"]["items"] == {
        "type": "string",
        "choicesFrom": "items",
        "enum": ["ORGA", "ORGB"],
        "enumNames": ["Organisation A (ORGA)", "B (ORGB)"],
    }
    assert form["properties"]["reason"] == {"type": "string"}
    assert "enum" not in OBJECTION["properties"]["concerns"]["items"]  # the file's own form


def test_a_form_without_choices_is_given_back_as_it_is(db: Database) -> None:
    plain = {"type": "object", "properties": {"reason": {"type": "string"}}}
    assert made_for(db, ON_THE_LIST, plain) is plain


def test_an_answer_off_the_list_is_refused_naming_the_entry(db: Database) -> None:
    form = compiled_form(made_for(db, ON_THE_LIST, OBJECTION))

    assert validate_submission(form.schema, {"concerns": ["ORGB"]}, form.validator)
    assert validate_submission(form.schema, {"concerns": None}, form.validator)
    with pytest.raises(FormInvalid) as refused:
        validate_submission(form.schema, {"concerns": ["ORGB", "ORGX"]}, form.validator)
    assert refused.value.errors == {
        "concerns/1": "ORGX is not on the list for this task: give one of ORGA, ORGB"
    }


def test_with_no_list_nothing_can_be_chosen(db: Database) -> None:
    form = compiled_form(made_for(db, {"items": None}, OBJECTION))

    assert form.schema["properties"]["concerns"]["items"]["enum"] == []
    assert validate_submission(form.schema, {"concerns": []}, form.validator) == {"concerns": []}
    with pytest.raises(FormInvalid) as refused:
        validate_submission(form.schema, {"concerns": ["ORGA"]}, form.validator)
    assert refused.value.errors == {
        "concerns/0": "there is nothing to choose from here for this task: leave it empty"
    }


def test_a_choice_inside_a_list_of_entries_gets_the_enum(db: Database) -> None:
    entries = {
        "type": "object",
        "properties": {
            "responses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"key": {"type": "string", "choicesFrom": "items"}},
                },
            }
        },
    }
    form = made_for(db, ON_THE_LIST, entries)

    key = form["properties"]["responses"]["items"]["properties"]["key"]
    assert key["enum"] == ["ORGA", "ORGB"]
    assert key["enumNames"] == ["Organisation A (ORGA)", "B (ORGB)"]
