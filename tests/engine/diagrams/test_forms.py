"""Form checks on the server: dates and times are real dates and times; a form is compiled
once per text, and an amended form is checked as amended."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.diagrams.forms import check_notice, checked_form, validate_submission
from engine.errors import FormInvalid, Refused

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
        "deadline": "must be a date and time with its offset from UTC (RFC 3339), written "
        "YYYY-MM-DDThh:mm:ss+hh:mm"
    }


def test_a_date_must_be_a_calendar_date() -> None:
    with pytest.raises(FormInvalid) as refused:
        validate_submission(SCHEMA, {"meeting_date": "2026-02-30"})
    assert refused.value.errors == {"meeting_date": "must be a date written YYYY-MM-DD"}


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
    assert refused.value.errors == {"meeting_date": "must be a date written YYYY-MM-DD"}
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


NOTICED = {
    "type": "object",
    "properties": {
        "deadline": {"type": ["string", "null"], "format": "date-time", "minimumNotice": True},
        "reminder": {"type": "string", "format": "date-time"},
    },
}
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_only_a_marked_date_and_time_needs_the_notice_and_an_empty_one_keeps_the_default() -> None:
    check_notice(
        NOTICED,
        {"deadline": None, "reminder": "2020-01-01T10:00:00Z"},
        now=MONDAY,
        notice=timedelta(days=3),
    )
    check_notice(
        NOTICED, {"deadline": "2026-11-26T11:00:00+01:00"}, now=MONDAY, notice=timedelta(days=3)
    )
    with pytest.raises(Refused) as refused:
        check_notice(
            NOTICED, {"deadline": "2026-11-26T09:00:00Z"}, now=MONDAY, notice=timedelta(days=3)
        )
    assert refused.value.errors == {
        "deadline": "This date and time must be at least 3 days from now: "
        "after 26 November 2026, 09:00 UTC."
    }


def test_a_spelling_the_format_admits_but_no_timer_reads_is_refused_in_words() -> None:
    assert validate_submission(NOTICED, {"deadline": "2026-12-09t10:00:00z"})
    with pytest.raises(Refused) as refused:
        check_notice(NOTICED, {"deadline": "2026-12-09t10:00:00z"}, now=MONDAY, notice=timedelta(0))
    assert refused.value.errors == {
        "deadline": "This date and time must be a date and time with its offset from UTC "
        "(RFC 3339), written YYYY-MM-DDThh:mm:ss+hh:mm."
    }
