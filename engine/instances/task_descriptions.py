"""What an inbox row says of a task: its name, role, scope, form, instructions and deadline,
worked out from the diagram's properties (expressions run in the sandbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task, TaskState

from engine.diagrams.bpmn import OPTIONAL_PROPERTY, SHOWS_PROPERTY, role_key
from engine.diagrams.forms import FORM_PROPERTY
from engine.diagrams.numbers import fill_numbers, methodology_numbers
from engine.errors import EngineError


def _evaluate(task: Task, expression: str, what: str) -> Any:
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except Exception as err:
        raise EngineError(
            f"could not work out the {what} of '{task.task_spec.bpmn_name or task.task_spec.name}'"
            f" from '{expression}': {err}"
        ) from err


def properties(task: Task) -> dict[str, str]:
    extensions = getattr(task.task_spec, "extensions", None) or {}
    return dict(extensions.get("properties", {}))


def timer_due(task: Task) -> datetime | None:
    """When a waiting timer task falls due (from SpiffWorkflow's stored event value)."""
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # a cycle timer: its next occurrence
        value = value.get("next")
        if value is None:
            return None
    return TimerEventDefinition.get_datetime(str(value))  # type: ignore[no-any-return]


def is_timer(task: Task) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    return isinstance(definition, TimerEventDefinition)


def due_at(task: Task, props: dict[str, str]) -> datetime | None:
    if props.get("dueAt"):
        value = _evaluate(task, props["dueAt"], "due time")
        if value:
            if isinstance(value, datetime):
                return value
            due: datetime = TimerEventDefinition.get_datetime(str(value))
            return due
    # The deadline is the nearest interrupting boundary timer on the task or on anything
    # that contains it (a multi-instance task, a subprocess, the call activity that called it).
    current: Task | None = task
    while current is not None:
        dues = [
            when
            for sibling in (current.parent.children if current.parent else [])
            if sibling is not current
            and _is_deadline_timer(sibling)
            and (when := timer_due(sibling)) is not None
        ]
        if dues:
            return min(dues)
        current = current.parent or _calling_task(current)
    return None


def _is_deadline_timer(task: Task) -> bool:
    return (
        task.state == TaskState.WAITING
        and isinstance(task.task_spec, BoundaryEvent)
        and bool(task.task_spec.cancel_activity)
        and is_timer(task)
    )


def _calling_task(task: Task) -> Task | None:
    """The subprocess or call activity task whose workflow `task` belongs to."""
    workflow = task.workflow
    if workflow is workflow.top_workflow:
        return None
    found: Task | None = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return found


def describe_task(task: Task) -> dict[str, Any]:
    """The inbox fields of a ready human task: name, role, scope, form, what its page shows,
    due time."""
    spec = task.task_spec
    props = properties(task)
    role = props.get("role") or (role_key(spec.lane) if spec.lane else "")
    if not role:
        raise EngineError(f"'{spec.bpmn_name or spec.name}' has no role: no lane, no role property")

    def scoped(key: str) -> str | None:
        if not props.get(key):
            return None
        value = _evaluate(task, props[key], key)
        return None if value in (None, "") else str(value)

    return {
        "bpmn_id": spec.bpmn_id or spec.name,
        "name": spec.bpmn_name or spec.bpmn_id or spec.name,
        "documentation": _with_instructions(_with_numbers(spec.documentation or "", task), task),
        "role": role,
        "organisation": scoped("organisation"),
        "pillar": scoped("pillar"),
        "assignee": scoped("assignee"),
        "about": (scoped("about") or "")[:500] or None,
        "form": props.get(FORM_PROPERTY),
        "shows": props.get(SHOWS_PROPERTY) or None,
        "due_at": due_at(task, props),
        "optional": props.get(OPTIONAL_PROPERTY) == "true",
    }


def _with_numbers(documentation: str, task: Task) -> str:
    """The documentation naming the numbers its diagrams set (engine.diagrams.numbers)."""
    if "{" not in documentation:
        return documentation
    top = task.workflow.top_workflow
    return fill_numbers(documentation, methodology_numbers(top.spec, top.subprocess_specs))


_INSTRUCTIONS = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)


def _with_instructions(documentation: str, task: Task) -> str:
    """The methodology's words, then the task's own instructions rendered from its data.

    `spiffworkflow:instructionsForEndUser` is a Jinja template (as in spiff-arena), rendered
    in Jinja's sandbox. The result is plain text: the web escapes it when it shows it.
    """
    extensions = getattr(task.task_spec, "extensions", None) or {}
    template = extensions.get("instructionsForEndUser")
    if not template:
        return documentation
    try:
        rendered = _INSTRUCTIONS.from_string(str(template)).render(**task.data)
    except TemplateError as err:
        rendered = f"(The instructions of this step could not be shown: {err.message})"
    return "\n\n".join(part for part in (documentation, rendered.strip()) if part)
