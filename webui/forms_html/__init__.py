"""A task's JSON Schema as plain HTML fields, and the posted form back as typed data.

Only the shape is decided here (which control, its label, its choices); the templates write
the HTML, so Jinja escapes every value. Checking the data is the engine's job: values that
do not parse are passed on as text, and the schema names what is wrong with them.
"""

from webui.forms_html.fields import Choice, FormField
from webui.forms_html.form import (
    errors_outside_fields,
    form_fields,
    form_time_zone,
    parse_submission,
    read_moments,
    submitted_answers,
)
from webui.forms_html.groups import ADD_ROW, FieldGroup, Row

__all__ = [
    "ADD_ROW",
    "Choice",
    "FieldGroup",
    "FormField",
    "Row",
    "errors_outside_fields",
    "form_fields",
    "form_time_zone",
    "parse_submission",
    "read_moments",
    "submitted_answers",
]
