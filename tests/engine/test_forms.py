"""Form checks on the server: dates and times are real dates and times."""

from __future__ import annotations

import pytest

from engine.errors import FormInvalid
from engine.forms import validate_submission

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
