"""A task's form made for that task, as the task page and the API give it: each field whose
values depend on the task (`choicesFrom`: the partner's open needs, the applications on a
Board list) carries them as an `enum` with their `enumNames`. Completing the task checks the
answer against the very same form (engine/diagrams/choices.py), so a client that fills the
form from its schema alone is never refused for a choice it could not foresee."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.diagrams.choices import ChoiceScope, choice_fields, resolve_choices
from engine.diagrams.forms import load_form
from engine.diagrams.numbers import fill_form_numbers
from engine.instances.loading import instance_numbers, load
from engine.instances.task_lookup import find_task
from models import HumanTask, ProcessInstance


def task_form(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """The JSON Schema of the task's form, its choices those of this task, its help texts
    naming the numbers the procedure runs with (None when the step takes no data)."""
    instance = session.get_one(ProcessInstance, task.instance_id)
    schema = load_form(instance.definition.files, task.form)
    if schema is None:
        return None
    schema = fill_form_numbers(schema, instance_numbers(session, instance))
    if next(choice_fields(schema), None) is None:
        return schema
    return resolve_choices(
        schema, ChoiceScope(session, task.organisation, task.pillar, _task_data(session, task))
    )


def _task_data(session: Session, task: HumanTask) -> dict[str, Any]:
    # Only a task that still waits has data to choose from; the instance is read (and
    # deserialized) only for a form that offers such choices.
    if task.status != "open":
        return {}
    found = find_task(load(session, task.instance_id), task.task_guid)
    return dict(found.data) if found is not None else {}
