"""A value not written the way a field expects is refused saying how to write it, in the
words of the field's description, never as "not in the expected form"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.diagrams.forms import validate_submission
from engine.errors import FormInvalid

MEMBERSHIP_START = Path(__file__).resolve().parents[3] / "bpmn" / "membership_start.json"


def test_a_short_code_in_small_letters_is_refused_saying_how_to_write_it() -> None:
    schema = json.loads(MEMBERSHIP_START.read_text())

    with pytest.raises(FormInvalid) as refused:
        validate_submission(schema, {"organisation_code": "interpol"})

    assert refused.value.errors["organisation_code"] == (
        "must be written as the field asks: the organisation's short identifier in the "
        "member list, in capitals, e.g. INTERPOL or FR"
    )
