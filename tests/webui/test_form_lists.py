"""Lists in task forms: entries as repeated rows of fields, and lines as a list of strings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.diagrams.forms import validate_submission
from engine.errors import FormInvalid
from webui.forms_html import (
    FieldGroup,
    FormField,
    form_fields,
    parse_submission,
    submitted_answers,
)

BPMN = Path(__file__).parents[2] / "bpmn"


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((BPMN / name).read_text(encoding="utf-8"))
    return loaded


NEEDS = _schema("needs_mapping_needs.json")
SUPPORT_GROUP = _schema("needs_mapping_support_group.json")
PROJECT_SUPPORT = _schema("response_mapping_project_support.json")
SILENT_PROCEDURE = _schema("silent_procedure_start.json")
BOARD_DECISION = _schema("board_decision_start.json")

FIRST_NEED = {
    "needs-0-kind": "legislative",
    "needs-0-perspective": "response",
    "needs-0-sub_pillar": "legal_framework",
    "needs-0-description": "Criminalise the financing of terrorism.",
}


def _group(schema: dict[str, Any], **kwargs: Any) -> FieldGroup:
    groups = [f for f in form_fields(schema, **kwargs) if isinstance(f, FieldGroup)]
    assert len(groups) == 1
    return groups[0]


def _field(schema: dict[str, Any], name: str, **kwargs: Any) -> FormField:
    found = {f.name: f for f in form_fields(schema, **kwargs) if isinstance(f, FormField)}
    return found[name]


def _by_name(fields: tuple[FormField, ...]) -> dict[str, FormField]:
    return {f.name: f for f in fields}


def test_the_needs_are_a_group_of_numbered_rows_of_the_usual_fields() -> None:
    needs = _group(NEEDS)

    assert (needs.label, needs.required, needs.can_add) == ("Needs", True, True)
    assert needs.help.startswith("One entry per need")
    assert [row.label for row in needs.rows] == ["Need 1", "Need 2", "Need 3"]
    second = _by_name(needs.rows[1].fields)
    assert {name: f.widget for name, f in second.items()} == {
        "needs-1-kind": "radio",
        "needs-1-perspective": "radio",
        "needs-1-sub_pillar": "radio",
        "needs-1-description": "textarea",
    }
    kind = second["needs-1-kind"]
    assert (kind.label, kind.required, kind.html_id) == ("Kind of need", True, "field-needs-1-kind")
    # A row may stay empty as a whole: the browser insists on nothing, and every radio
    # group has a way back once something was chosen.
    assert not any(f.browser_required for f in second.values())
    assert [c.label for c in kind.choices] == [
        "Legislative",
        "Institutional",
        "Operational",
        "No answer",
    ]
    # The sub-pillar is required (the reports are built along the four sub-pillars): it has
    # no "None", only the way back of a row that may stay empty.
    assert [c.label for c in second["needs-1-sub_pillar"].choices] == [
        "Legal framework and implementation",
        "Institutional set-up and enforcement",
        "Capacity building and support",
        "Coordination and cooperation",
        "No answer",
    ]
    assert second["needs-1-description"].max_length == 5000


def test_the_rows_honour_the_least_and_most_entries_the_form_allows() -> None:
    short = {**NEEDS["properties"]["needs"], "maxItems": 2}
    long = {**NEEDS["properties"]["needs"], "minItems": 5}

    capped = _group({"type": "object", "properties": {"needs": short}})
    assert (len(capped.rows), capped.can_add) == (2, False)
    assert len(_group({"type": "object", "properties": {"needs": long}}).rows) == 5


def test_posted_rows_become_needs_in_row_order_without_the_empty_rows() -> None:
    posted = {
        "needs-10-kind": "operational",  # posted first, numbered last
        "needs-10-perspective": "prevention",
        "needs-10-sub_pillar": "capacity_building",
        "needs-10-description": "Border surveillance equipment.",
        **FIRST_NEED,
        "needs-1-kind": "",
        "needs-1-sub_pillar": "",
        "needs-1-description": "   \r\n ",
        "needs-2-kind": "institutional",
        "needs-2-perspective": "prevention",
        "needs-2-sub_pillar": "coordination_cooperation",
        "needs-2-description": "A referral mechanism.",
        "needs-rows": "11",
        "remarks": "",
    }

    data = parse_submission(NEEDS, posted)

    assert data == {
        "needs": [
            {
                "kind": "legislative",
                "perspective": "response",
                "sub_pillar": "legal_framework",
                "description": "Criminalise the financing of terrorism.",
            },
            {
                "kind": "institutional",
                "perspective": "prevention",
                "sub_pillar": "coordination_cooperation",
                "description": "A referral mechanism.",
            },
            {
                "kind": "operational",
                "perspective": "prevention",
                "sub_pillar": "capacity_building",
                "description": "Border surveillance equipment.",
            },
        ]
    }
    assert validate_submission(NEEDS, data) == data


def test_numbers_in_rows_are_typed() -> None:
    posted = {
        "support-0-need_id": "12",
        "support-0-project": "Training of prosecutors",
        "support-0-period": "past_year",
        "support-0-status": "completed",
        "support-0-funding": "",
    }

    assert parse_submission(PROJECT_SUPPORT, posted) == {
        "support": [
            {
                "need_id": 12,
                "project": "Training of prosecutors",
                "period": "past_year",
                "status": "completed",
            }
        ]
    }


def test_a_required_list_left_empty_is_sent_empty_and_an_optional_one_as_null() -> None:
    blank = {"needs-0-kind": "", "needs-0-description": " ", "needs-rows": "3"}

    assert parse_submission(NEEDS, blank) == {"needs": []}
    assert parse_submission(SUPPORT_GROUP, {"contribution": "Our view."}) == {
        "contribution": "Our view.",
        "additional_needs": None,
    }
    not_nullable = {
        "type": "object",
        "properties": {"needs": {**NEEDS["properties"]["needs"], "type": "array"}},
    }
    assert parse_submission(not_nullable, blank) == {}


def test_errors_inside_the_list_come_back_to_their_row_and_field() -> None:
    posted = {
        **FIRST_NEED,
        "needs-1-kind": "",
        "needs-1-description": "",
        "needs-2-kind": "institutional",
        "needs-2-perspective": "prevention",
        "needs-2-sub_pillar": "coordination_cooperation",
        "needs-2-description": "",
        "needs-rows": "3",
    }
    with pytest.raises(FormInvalid) as refused:
        validate_submission(NEEDS, parse_submission(NEEDS, posted))
    errors = refused.value.errors
    # The empty middle row was dropped: the third row is the engine's second entry.
    assert errors == {"needs/1/description": "this field is required"}

    needs = _group(NEEDS, values=posted, errors={**errors, "needs": "needs at least 3 entries"})

    first, second, third = (_by_name(row.fields) for row in needs.rows)
    assert not any(f.error for f in first.values())
    assert first["needs-0-description"].value == "Criminalise the financing of terrorism."
    # The rows are numbered again, so the page and the engine speak of the same row.
    assert second["needs-1-kind"].value == "institutional"
    description = second["needs-1-description"]
    assert description.error == "this field is required"
    assert (
        description.described_by == "field-needs-1-description-help field-needs-1-description-error"
    )
    assert not any(f.value for f in third.values())
    assert needs.error == "needs at least 3 entries"
    assert needs.problems == (
        ("field-needs", "Needs: needs at least 3 entries"),
        ("field-needs-1-description", "Need 2, The need: this field is required"),
    )


def test_an_error_about_a_whole_row_is_shown_on_the_row() -> None:
    needs = _group(
        NEEDS,
        values=FIRST_NEED,
        errors={"needs/0": "is not a field of this form", "needs/7/kind": "odd"},
    )

    assert needs.rows[0].error == "is not a field of this form"
    assert needs.rows[0].error_id == "field-needs-row-0-error"
    assert needs.error == "7/kind: odd"  # no such row on the page: said at the list


def test_adding_a_row_keeps_what_was_entered_and_shows_one_row_more() -> None:
    posted = {**FIRST_NEED, "needs-2-description": "Half-written", "needs-rows": "3"}

    needs = _group(NEEDS, values=posted, add_row="needs")

    assert needs.row_added
    assert [row.label for row in needs.rows] == ["Need 1", "Need 2", "Need 3", "Need 4"]
    assert [f.value for f in needs.rows[0].fields] == list(FIRST_NEED.values())
    assert _by_name(needs.rows[1].fields)["needs-1-description"].value == "Half-written"
    assert not _group(NEEDS, values=posted).row_added
    # The page says how many rows it showed, so the next press adds yet another.
    again = _group(NEEDS, values={**posted, "needs-rows": "4"}, add_row="needs")
    assert len(again.rows) == 5


def test_a_forged_row_count_cannot_ask_for_endless_rows() -> None:
    needs = _group(NEEDS, values={"needs-rows": "999999999"}, add_row="needs")

    assert len(needs.rows) == NEEDS["properties"]["needs"]["maxItems"]
    assert not needs.can_add


# A list of strings, as a form may ask for one (names, places), one a line.
NAMES = {
    "type": "object",
    "properties": {
        "subject": {"type": "string", "maxLength": 200},
        "names": {"type": ["array", "null"], "title": "Names", "items": {"type": "string"}},
    },
}


def test_a_list_of_strings_is_written_one_per_line() -> None:
    names = _field(NAMES, "names")

    assert (names.widget, names.required) == ("lines", False)
    assert "own line" in names.help
    posted = {"subject": "Work plan 2027", "names": " Ana Petrović \r\n\r\n  Jonas Weber\n"}
    data = parse_submission(NAMES, posted)
    assert data["names"] == ["Ana Petrović", "Jonas Weber"]
    assert validate_submission(NAMES, data) == data
    assert parse_submission(NAMES, {"names": "  \r\n "}) == {"names": None}


def test_a_refused_line_is_named_at_its_field() -> None:
    names = _field(NAMES, "names", values={"names": "a\nb"}, errors={"names/1": "odd"})

    assert (names.value, names.error) == ("a\nb", "line 2: odd")


def test_a_decisions_documents_are_files_to_upload_not_lines_to_type() -> None:
    for schema in (SILENT_PROCEDURE, BOARD_DECISION):
        documents = _field(schema, "documents")

        assert (documents.widget, documents.required) == ("documents", False)
        assert ".pdf" in documents.help
        # The files and the ticked uploads are read by the start page, never as typed text.
        posted = {"subject": "Work plan", "proposal": "Adopt it.", "documents": "work-plan.pdf"}
        assert "documents" not in parse_submission(schema, posted)
        ids = {"subject": "Work plan", "proposal": "Adopt it.", "documents": [4, 7]}
        assert validate_submission(schema, ids) == ids
        with pytest.raises(FormInvalid):
            validate_submission(schema, {**ids, "documents": ["work-plan.pdf"]})


def test_submitted_lists_read_in_plain_words() -> None:
    answers = submitted_answers(
        NEEDS,
        {
            "needs": [
                {"kind": "legislative", "perspective": "response", "description": "Laws."},
                {"kind": "operational", "perspective": "prevention", "description": "Kit."},
            ]
        },
    )
    names = submitted_answers(NAMES, {"names": ["Ana", "Jonas"]})

    assert answers == [
        (
            "Needs",
            "Need 1: Kind of need: Legislative; Perspective: Response: a gap in effective "
            "response to security threats; The need: Laws.\n"
            "Need 2: Kind of need: Operational; Perspective: Prevention: a gap in effective "
            "prevention of security threats; The need: Kit.",
        )
    ]
    assert names == [("Names", "Ana\nJonas")]
