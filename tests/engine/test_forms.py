"""Form checks on the server: dates and times are real dates and times; a form is compiled
once per text, and an amended form is checked as amended."""

from __future__ import annotations

import json

import pytest

from engine.errors import FormInvalid
from engine.forms import checked_form, validate_submission

SCHEMA = {
    "type": "object",
    "properties": {
        "deadline": {"type": "string", "format": "date-time", "title": "Deadline"},
        "meeting_date": {"type": "string", "format": "date", "title": "Meeting"},
    },
}


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T10:00:00+01:00", "2026-12-01T10:00"])
def test_a_date_and_time_must_be_one_with_its_offset(value: str) -> None:
    with pytest.raises(FormInvalid) as refused:
        validate_submission(SCHEMA, {"deadline": value})
    assert refused.value.errors == {
        "deadline": "must be a date and time with its offset, like 2026-11-30T17:00:00+01:00"
    }


def test_a_date_must_be_a_calendar_date() -> None:
    with pytest.raises(FormInvalid) as refused:
        validate_submission(SCHEMA, {"meeting_date": "2026-02-30"})
    assert refused.value.errors == {"meeting_date": "must be a date like 2026-11-30"}


def test_good_dates_pass() -> None:
    data = {"deadline": "2026-12-01T17:00:00+01:00", "meeting_date": "2026-11-30"}
    assert validate_submission(SCHEMA, data) == data


def test_answers_to_one_form_share_its_compiled_check_and_dates_are_still_checked() -> None:
    files = {"dates.json": json.dumps(SCHEMA)}
    form = checked_form(files, "dates.json")
    assert form is not None
    assert checked_form(dict(files), "dates.json") is form
    assert form.fields == ["deadline", "meeting_date"]
    with pytest.raises(FormInvalid) as refused:
        validate_submission(form.schema, {"meeting_date": "2026-02-30"}, form.validator)
    assert refused.value.errors == {"meeting_date": "must be a date like 2026-11-30"}
    assert checked_form(files, None) is None


def test_an_amended_form_is_checked_as_amended_not_as_the_version_before() -> None:
    before = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 5}}}
    amended = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 50}}}
    old = checked_form({"answer.json": json.dumps(before)}, "answer.json")
    new = checked_form({"answer.json": json.dumps(amended)}, "answer.json")
    assert old is not None and new is not None
    long_reason = {"reason": "a reason of some length"}
    with pytest.raises(FormInvalid):
        validate_submission(old.schema, long_reason, old.validator)
    assert validate_submission(new.schema, long_reason, new.validator) == long_reason
