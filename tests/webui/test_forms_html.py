"""Task forms as HTML controls, and posted forms back as typed data for the engine to check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.diagrams.forms import validate_submission
from engine.errors import FormInvalid
from webui.forms_html import (
    errors_outside_fields,
    form_fields,
    form_time_zone,
    parse_submission,
    read_moments,
    submitted_answers,
)

REPO = Path(__file__).parents[2]


def _schema(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


BOARD_RECORD = _schema(REPO / "bpmn" / "board_decision_record.json")
REVIEW = _schema(REPO / "tests" / "bpmn" / "review.json")

EVERY_KIND: dict[str, Any] = {
    "type": "object",
    "required": ["seats", "country"],
    "properties": {
        "summary": {"type": "string", "title": "Summary", "maxLength": 120},
        "notes": {"type": "string"},
        "seats": {"type": "integer", "title": "Seats", "minimum": 1, "maximum": 9},
        "share": {"type": "number"},
        "deadline": {"type": "string", "format": "date-time", "title": "Deadline"},
        "country": {"type": "string", "enum": ["AL", "BA", "XK", "ME", "MK", "RS"]},
        "urgent": {"type": "boolean"},
    },
}


def _by_name(schema: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return {f.name: f for f in form_fields(schema, **kwargs)}


def test_each_kind_of_field_gets_its_control() -> None:
    fields = _by_name(EVERY_KIND)

    assert {name: f.widget for name, f in fields.items()} == {
        "summary": "text",
        "notes": "textarea",
        "seats": "number",
        "share": "number",
        "deadline": "datetime",
        "country": "select",
        "urgent": "radio",
    }
    assert (fields["seats"].step, fields["seats"].minimum, fields["seats"].maximum) == (
        "1",
        "1",
        "9",
    )
    assert fields["share"].step == "any"
    assert fields["summary"].max_length == 120
    # A picker in the person's time zone: no example to copy, and none that can go stale.
    assert fields["deadline"].placeholder is None
    assert fields["deadline"].help == ""
    assert fields["deadline"].described_by == "form-time-zone"
    assert fields["notes"].label == "Notes"  # no title: the field's name, made readable


def test_labels_help_and_the_required_marker_come_from_the_schema() -> None:
    fields = _by_name(BOARD_RECORD)

    assert fields["minutes"].label == "Minutes"
    assert fields["minutes"].help == "The written meeting conclusions on this matter."
    assert fields["minutes"].widget == "textarea"  # maxLength 20000
    assert fields["meeting_date"].widget == "date"
    assert {name for name, f in fields.items() if f.required} == {
        "outcome",
        "meeting_date",
        "minutes",
    }
    assert not fields["not_confirmed"].required  # only on a list


def test_a_short_enum_is_radio_buttons_labelled_by_enum_names() -> None:
    outcome = _by_name(BOARD_RECORD)["outcome"]

    assert outcome.widget == "radio"
    assert [(c.value, c.label) for c in outcome.choices] == [
        ("adopted", "Adopted by consensus"),
        ("not_adopted", "Not adopted"),
    ]


def test_a_required_yes_no_question_has_no_answer_chosen_in_advance() -> None:
    approved = _by_name(REVIEW)["approved"]

    assert [(c.value, c.label) for c in approved.choices] == [("true", "Yes"), ("false", "No")]
    assert approved.value == ""


def test_an_optional_radio_group_can_be_left_unanswered() -> None:
    urgent = _by_name(EVERY_KIND)["urgent"]

    assert [c.label for c in urgent.choices] == ["Yes", "No", "No answer"]


def test_entered_values_and_errors_come_back_to_their_fields() -> None:
    fields = _by_name(
        REVIEW,
        values={"comment": "draft"},
        errors={"approved": "this field is required"},
    )

    assert fields["comment"].value == "draft"
    assert fields["approved"].error == "this field is required"
    assert fields["approved"].described_by == "field-approved-error"
    assert errors_outside_fields(REVIEW, {"(form)": "the submission is odd", "x": "unknown"}) == [
        "the submission is odd",
        "x: unknown",
    ]


def test_a_posted_form_becomes_typed_data() -> None:
    posted = {
        "summary": "  Short  ",
        "notes": "Line one\r\nLine two",
        "seats": "3",
        "share": "0.5",
        "deadline": "2026-11-30T17:00:00+01:00",
        "country": "RS",
        "urgent": "false",
        "csrf_token": "ignored",
    }

    assert parse_submission(EVERY_KIND, posted) == {
        "summary": "Short",
        "notes": "Line one\nLine two",
        "seats": 3,
        "share": 0.5,
        "deadline": "2026-11-30T17:00:00+01:00",
        "country": "RS",
        "urgent": False,
    }


def test_empty_fields_are_left_out_so_the_schema_can_say_what_is_missing() -> None:
    data = parse_submission(REVIEW, {"approved": "", "comment": "   "})

    assert data == {}
    with pytest.raises(FormInvalid) as refused:
        validate_submission(REVIEW, data)
    assert set(refused.value.errors) == {"approved", "comment"}


def test_values_that_do_not_parse_stay_text_for_the_schema_to_refuse() -> None:
    data = parse_submission(EVERY_KIND, {"seats": "two", "share": "nan", "urgent": "maybe"})

    assert data == {"seats": "two", "share": "nan", "urgent": "maybe"}
    with pytest.raises(FormInvalid) as refused:
        validate_submission(EVERY_KIND, {**data, "country": "AL"})
    assert refused.value.errors["seats"] == "must be an integer"


def test_no_form_means_no_data() -> None:
    assert parse_submission(None, {"anything": "x"}) == {}
    assert form_fields(None) == []


def test_submitted_answers_read_in_plain_words() -> None:
    answers = submitted_answers(
        BOARD_RECORD,
        {"minutes": "Agreed.", "outcome": "adopted", "meeting_date": "2026-11-20"},
    )

    assert answers == [
        ("Outcome", "Adopted by consensus"),
        ("Date of the Board meeting", "2026-11-20"),
        ("Minutes", "Agreed."),
    ]
    assert submitted_answers(REVIEW, {"approved": False}) == [
        ("The proposal can go to the Board", "No")
    ]


# Dates and times picked in the person's time zone


def test_a_picked_date_and_time_is_read_in_the_browsers_time_zone() -> None:
    posted = {"deadline": "2026-12-10T17:00", "seats": "3", "_time_zone": "Europe/Belgrade"}

    assert parse_submission(EVERY_KIND, posted)["deadline"] == "2026-12-10T17:00:00+01:00"
    summer = {**posted, "deadline": "2027-07-01T09:30"}
    assert parse_submission(EVERY_KIND, summer)["deadline"] == "2027-07-01T09:30:00+02:00"
    far_west = {**posted, "_time_zone": "America/Los_Angeles"}
    assert parse_submission(EVERY_KIND, far_west)["deadline"] == "2026-12-10T17:00:00-08:00"


def test_without_the_browsers_zone_the_systems_zone_is_used() -> None:
    posted = {"deadline": "2026-12-10T17:00"}

    assert parse_submission(EVERY_KIND, posted)["deadline"] == "2026-12-10T17:00:00+00:00"
    assert (
        parse_submission(EVERY_KIND, posted, "Europe/Sarajevo")["deadline"]
        == "2026-12-10T17:00:00+01:00"
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "x" * 500])
def test_a_zone_this_system_does_not_know_falls_back_to_the_systems_zone(zone: str) -> None:
    posted = {"deadline": "2026-12-10T17:00", "_time_zone": zone}

    assert (
        parse_submission(EVERY_KIND, posted, "Europe/Skopje")["deadline"]
        == "2026-12-10T17:00:00+01:00"
    )
    assert form_time_zone(posted, "Europe/Skopje") == "Europe/Skopje"


def test_a_time_that_happens_twice_when_the_clocks_go_back_is_the_first_of_the_two() -> None:
    # On 25 October 2026 Belgrade's clocks go back from 03:00 to 02:00: 02:30 happens twice.
    posted = {"deadline": "2026-10-25T02:30", "_time_zone": "Europe/Belgrade"}

    assert parse_submission(EVERY_KIND, posted)["deadline"] == "2026-10-25T02:30:00+02:00"
    assert read_moments(EVERY_KIND, posted)[1] == {}


def test_a_time_skipped_when_the_clocks_go_forward_is_refused_naming_the_field() -> None:
    # On 28 March 2027 Belgrade's clocks go forward from 02:00 to 03:00.
    posted = {"deadline": "2027-03-28T02:30", "_time_zone": "Europe/Belgrade"}

    read, problems = read_moments(EVERY_KIND, posted)

    assert problems == {
        "deadline": "02:30 does not exist on 28 March 2027 in Europe/Belgrade: the clocks go "
        "forward then. Choose a later time"
    }
    assert read["deadline"] == "2027-03-28T02:30"  # kept as typed, for the page to show again
    with pytest.raises(FormInvalid) as refused:
        validate_submission(EVERY_KIND, parse_submission(EVERY_KIND, posted))
    assert "deadline" in refused.value.errors
    shown = _by_name(EVERY_KIND, values=posted, errors=problems)["deadline"]
    assert (shown.value, shown.widget) == ("2027-03-28T02:30", "datetime")
    assert shown.error is not None and "does not exist" in shown.error


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2026-12-10", "give the time as well as the date"),
        ("tomorrow at five", "choose a date and a time (year-month-day and hours:minutes)"),
        ("2026-13-10T17:00", "choose a date and a time (year-month-day and hours:minutes)"),
    ],
)
def test_a_date_and_time_that_names_no_moment_says_why(typed: str, problem: str) -> None:
    assert read_moments(EVERY_KIND, {"deadline": typed}) == (
        {"deadline": typed},
        {"deadline": problem},
    )


def test_a_moment_with_its_offset_is_taken_as_typed_and_shown_in_the_picker() -> None:
    posted = {"deadline": "2026-12-10T17:00:00+01:00", "_time_zone": "America/New_York"}

    assert parse_submission(EVERY_KIND, posted)["deadline"] == "2026-12-10T17:00:00+01:00"
    default = {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time", "default": "2027-01-15T17:00:00+01:00"}
        },
    }
    assert _by_name(default)["at"].value == "2027-01-15T17:00"


def test_a_date_and_time_in_a_list_is_read_in_the_zone_too() -> None:
    schema = {
        "type": "object",
        "properties": {
            "meetings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "title": "Meeting",
                    "properties": {
                        "place": {"type": "string", "maxLength": 80},
                        "held_at": {"type": "string", "format": "date-time"},
                    },
                },
            }
        },
    }
    posted = {
        "_time_zone": "Europe/Tirane",
        "meetings-0-place": "",
        "meetings-0-held_at": "",
        "meetings-1-place": "Tirana",
        "meetings-1-held_at": "2027-01-20T10:00",
        "meetings-2-place": "Skopje",
        "meetings-2-held_at": "2027-03-28T02:15",
    }

    assert parse_submission(schema, posted)["meetings"][0] == {
        "place": "Tirana",
        "held_at": "2027-01-20T10:00:00+01:00",
    }
    assert list(read_moments(schema, posted)[1]) == ["meetings/1/held_at"]


def test_the_moment_submitted_reads_with_its_offset() -> None:
    answers = submitted_answers(EVERY_KIND, {"deadline": "2026-12-10T17:00:00+01:00"})

    assert answers == [("Deadline", "10 December 2026, 17:00 (UTC+01:00)")]
