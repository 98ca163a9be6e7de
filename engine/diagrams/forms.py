"""Task forms: JSON Schema files beside the diagram, checked on the server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.errors import FormInvalid, Refused

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
# A form marks with this keyword each date and time a timer will wait on: a deadline that
# has passed would fire the moment the step is done, before anyone has seen it.
NOTICE_KEYWORD = "minimumNotice"
# A field whose values depend on the task, taken from the source the keyword names (such as
# the applications on a Board list): see engine/diagrams/choices.py.
CHOICES_KEYWORD = "choicesFrom"

# A date and time a person types is kept in these years (in UTC): far beyond any deadline of
# the procedures, and inside what both databases and Python's datetime hold.
FIRST_YEAR, LAST_YEAR = 1900, 2200


class MomentOutOfRange(ValueError):
    """A date and time of the right form, outside the years the system keeps."""


_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=(ValueError, OverflowError))
def _date_time(value: object) -> bool:
    """RFC 3339, as jsonschema checks it, and within FIRST_YEAR..LAST_YEAR in UTC."""
    if not isinstance(value, str):
        return True
    if not FormatChecker(["date-time"]).conforms(value, "date-time"):
        return False
    moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows a small t and z
    # The local year first: converting year 1 or 9999 to UTC would overflow.
    if not FIRST_YEAR <= moment.year <= LAST_YEAR or not (
        FIRST_YEAR <= moment.astimezone(UTC).year <= LAST_YEAR
    ):
        raise MomentOutOfRange(value)
    return True


def load_form(files: dict[str, str], name: str | None) -> dict[str, Any] | None:
    """The JSON Schema named `name` among a version's files (None when the task has no form)."""
    if not name:
        return None
    return json.loads(files[name])  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CheckedForm:
    """A form's schema with its validator, built once per form text and shared: read-only."""

    schema: dict[str, Any]
    validator: Draft202012Validator

    @property
    def fields(self) -> list[str]:
        return list(self.schema.get("properties", {}))


def checked_form(files: dict[str, str], name: str | None) -> CheckedForm | None:
    """The form named `name` ready to check answers (None when the task has no form): each
    answer to a step checks against the same form, so it is parsed and compiled once."""
    if not name:
        return None
    return _checked_form(files[name])


def check_answer(form: CheckedForm | None, data: Any) -> dict[str, Any]:
    """validate_submission against a compiled form (None: the step takes no data)."""
    if form is None:
        return validate_submission(None, data)
    return validate_submission(form.schema, data, form.validator)


@lru_cache(maxsize=256)
def _checked_form(text: str) -> CheckedForm:
    schema = json.loads(text)
    return CheckedForm(schema, _validator(schema))


def compiled_form(schema: dict[str, Any]) -> CheckedForm:
    """A form's schema ready to check answers, compiled for this one use (a form made for
    one task: see engine/diagrams/choices.py)."""
    return CheckedForm(schema, _validator(schema))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=_FORMATS)


def _field(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return "/".join(path) or "(form)"


def _reason(error: ValidationError, schema: dict[str, Any]) -> str:
    kind, value = error.validator, cast(Any, error.validator_value)
    if kind == "required":
        return "this field is required"
    if kind == "enum" and isinstance(error.schema, dict) and CHOICES_KEYWORD in error.schema:
        # A list made for the task: say what is wrong with the value, and what the list holds.
        if not value:
            return "there is nothing to choose from here for this task: leave it empty"
        listed = [str(v) for v in value if v is not None]
        shown = ", ".join(listed[:10]) + (", …" if len(listed) > 10 else "")
        return f"{error.instance} is not on the list for this task: give one of {shown}"
    if kind == "enum":
        return "choose one of: " + ", ".join(str(v) for v in value)
    if kind == "const":
        return "must be confirmed" if value is True else f"must be {value!r}"
    if kind == "type":
        return f"must be {'an' if str(value)[0] in 'aeiou' else 'a'} {value}"
    if kind == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters"
    if kind == "maxLength":
        return f"must be at most {value} characters"
    if kind == "minimum":
        return f"must be at least {value}"
    if kind == "maximum":
        return f"must be at most {value}"
    if kind == "format" and value == "date-time" and isinstance(error.cause, MomentOutOfRange):
        return (
            f"must be a date and time between the years {FIRST_YEAR} and {LAST_YEAR} (in UTC), "
            "written YYYY-MM-DDThh:mm:ss with its offset, like +01:00"
        )
    if kind == "format" and value in _FORMAT_WORDS:
        return _FORMAT_WORDS[value]
    if kind == "pattern":
        return _pattern_words(error.schema if isinstance(error.schema, dict) else {})
    if kind in {"minItems", "maxItems"}:
        return f"needs {'at least' if kind == 'minItems' else 'at most'} {value} entries"
    return str(error.message)


def _pattern_words(field: Mapping[str, Any]) -> str:
    """What form a field expects, in the words of its description (a pattern is for
    machines): "must be written as the field asks: in capitals, e.g. INTERPOL or FR"."""
    described = str(field.get("description") or "").strip().rstrip(".")
    if not described:
        return "is not written the way this field expects; ask the Secretariat how to write it"
    if described[1:2].islower():  # "The organisation's code", not "EU agency"
        described = described[:1].lower() + described[1:]
    return f"must be written as the field asks: {described}"


_FORMAT_WORDS = {
    # The form, not an example date: an example goes stale, and is soon in the past.
    "date-time": "must be a date and time with its offset from UTC (RFC 3339), written "
    "YYYY-MM-DDThh:mm:ss+hh:mm",
    "date": "must be a date written YYYY-MM-DD",
    "email": "must be an e-mail address",
}


def validate_submission(
    schema: dict[str, Any] | None,
    data: Any,
    validator: Draft202012Validator | None = None,
) -> dict[str, Any]:
    """The submitted data if it satisfies the form; FormInvalid naming each bad field if not.
    (`validator`: the schema's, when one is at hand: see checked_form.)

    Only the form's own fields are accepted, so a submission can never overwrite other
    variables of the procedure.
    """
    if not isinstance(data, dict):
        raise FormInvalid({"(form)": "the submission must be an object of fields"})
    if schema is None:
        if data:
            raise FormInvalid({name: "this step takes no data" for name in data})
        return {}
    allowed = set(schema.get("properties", {}))
    errors: dict[str, str] = {
        name: "is not a field of this form" for name in data if name not in allowed
    }
    if validator is None:
        validator = _validator(schema)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        errors.setdefault(_field(error), _reason(error, schema))
    if errors:
        raise FormInvalid(errors)
    return dict(data)


def check_notice(
    schema: dict[str, Any] | None, data: dict[str, Any], *, now: datetime, notice: timedelta
) -> None:
    """Refused, naming the field, when a date and time the form marks with NOTICE_KEYWORD is
    not later than `now` plus the minimum `notice`. (Run on checked data: an empty field
    leaves the diagram's default, counted from now.)"""
    earliest = now + notice
    for name, field in (schema or {}).get("properties", {}).items():
        value = data.get(name)
        if not isinstance(field, dict) or not field.get(NOTICE_KEYWORD) or value in (None, ""):
            continue
        subject = _subject(field)
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:  # the form's format admits a few spellings Python does not read
            moment = None
        if moment is None or moment.tzinfo is None:
            raise Refused(name, f"{subject} {_FORMAT_WORDS['date-time']}.")
        if moment <= earliest:
            ahead = f"at least {_duration_words(notice)} from now" if notice else "in the future"
            raise Refused(name, f"{subject} must be {ahead}: after {_utc_words(earliest)}.")


def _subject(field: dict[str, Any]) -> str:
    title = str(field.get("title") or "").strip()
    return f"The {title[:1].lower()}{title[1:]}" if title else "This date and time"


def _duration_words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        # A day is said in hours up to two days: "24 hours", "36 hours", "3 days".
        if seconds % size == 0 and (unit != "day" or seconds >= 2 * 86400):
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def _utc_words(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def example_answer(schema: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The smallest answer a form accepts, made up for a dry run; FormInvalid if none is found.

    Required fields only, each with the least value of its kind: the first choice, the
    minimum number, a string of the minimum length (or one the field's pattern accepts),
    `false`, no entries; dates are `now`'s. Conditions (`if`/`then`) are followed.
    """
    if schema is None:
        return {}
    answer = _example(schema, schema, now)
    if not isinstance(answer, dict):
        raise FormInvalid({"(form)": "the form does not describe an object of fields"})
    validator = _validator(schema)
    errors = {
        _field(error): _reason(error, schema)
        for error in validator.iter_errors(answer)  # what the made-up answer still lacks
    }
    if errors:
        raise FormInvalid(errors)
    return answer


def _example(schema: Any, root: dict[str, Any], now: datetime, depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > 20:
        return None
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _example(target, root, now, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = _kind(schema)
    if kind == "object":
        return _example_object(schema, root, now, depth)
    if kind == "array":
        return [
            _example(schema.get("items", {}), root, now, depth + 1)
            for _ in range(int(schema.get("minItems", 0)))
        ]
    if kind == "string":
        return _example_string(schema, now)
    if kind in ("integer", "number"):
        return _example_number(schema, kind)
    if kind == "boolean":
        return False
    return None


def _kind(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "required" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _example_object(
    schema: dict[str, Any], root: dict[str, Any], now: datetime, depth: int
) -> dict[str, Any]:
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required: list[str] = list(schema.get("required", []))
    answer = {name: _example(properties.get(name, {}), root, now, depth + 1) for name in required}
    conditions = [schema, *[part for part in schema.get("allOf", []) if isinstance(part, dict)]]
    for _ in range(len(conditions) + 1):  # a condition met may make another one true
        changed = False
        for part in conditions:
            extra = part.get("then") if _holds(part.get("if"), answer) else part.get("else")
            if part is not schema and "if" not in part:
                extra = part
            if not isinstance(extra, dict):
                continue
            for name in extra.get("required", []):
                rules = [properties.get(name, {}), extra.get("properties", {}).get(name, {})]
                if name in answer and all(_holds(rule, answer[name]) for rule in rules):
                    continue
                values = [_example(rule, root, now, depth + 1) for rule in rules]
                answer[name] = next(
                    (v for v in values if all(_holds(rule, v) for rule in rules)), values[0]
                )
                changed = True
        if not changed:
            break
    return answer


def _holds(schema: Any, value: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return bool(Draft202012Validator(schema, format_checker=_FORMATS).is_valid(value))


def _example_string(schema: dict[str, Any], now: datetime) -> str:
    length = int(schema.get("minLength", 0))
    candidates = {
        "date": [now.date().isoformat()],
        "date-time": [now.isoformat()],
        "email": ["someone@example.org"],
        "uri": ["https://example.org/"],
    }.get(str(schema.get("format", "")), [])
    candidates.append("a" * length)
    for size in range(max(length, 1), max(length, 1) + 4):
        candidates.extend(letter * size for letter in ("a", "A", "0", "aA0"))
    for candidate in candidates:
        if _holds(schema, candidate):
            return candidate
    return candidates[0]


def _example_number(schema: dict[str, Any], kind: str) -> int | float:
    if "minimum" in schema:
        value: float = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + 1
    elif "maximum" in schema:
        value = min(0, schema["maximum"])
    elif "exclusiveMaximum" in schema:
        value = min(0, schema["exclusiveMaximum"] - 1)
    else:
        value = 0
    return int(value) if kind == "integer" else value
