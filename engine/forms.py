"""Task forms: JSON Schema files beside the diagram, checked on the server."""

from __future__ import annotations

import json
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.errors import FormInvalid

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"


def load_form(files: dict[str, str], name: str | None) -> dict[str, Any] | None:
    """The JSON Schema named `name` among a version's files (None when the task has no form)."""
    if not name:
        return None
    return json.loads(files[name])  # type: ignore[no-any-return]


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
    if kind == "format" and value == "date-time":
        return "must be a date and time with its offset, like 2026-11-30T17:00:00+01:00"
    if kind == "format" and value == "date":
        return "must be a date like 2026-11-30"
    if kind == "format" and value == "email":
        return "must be an e-mail address"
    if kind == "pattern":
        return "is not in the expected form"
    if kind in {"minItems", "maxItems"}:
        return f"needs {'at least' if kind == 'minItems' else 'at most'} {value} entries"
    return str(error.message)


def validate_submission(schema: dict[str, Any] | None, data: Any) -> dict[str, Any]:
    """The submitted data if it satisfies the form; FormInvalid naming each bad field if not.

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
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        errors.setdefault(_field(error), _reason(error, schema))
    if errors:
        raise FormInvalid(errors)
    return dict(data)
