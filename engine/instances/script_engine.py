"""The script engine every workflow runs with, built here once: the sandbox, the date
functions diagrams call, and service tasks dispatched to the registered operations (the
engine's own, `reschedule_timer`, among them)."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task

from engine.diagrams.numbers import step_properties
from engine.errors import EngineError
from engine.instances.timers import waiting_timers
from engine.sandbox.dates import DIAGRAM_FUNCTIONS, parse_moment
from engine.sandbox.restricted import SandboxEnvironment
from engine.services import ServiceCall, ServiceScriptEngine, register


class DiagramScriptEngine(ServiceScriptEngine):
    """A script step reads its own properties, the numbers the methodology leaves open
    (engine.diagrams.numbers), as `properties["name"]`; they never enter the task data."""

    def execute(self, task: Task, script: str, external_context: Any = None) -> Any:
        context = {"properties": step_properties(task.task_spec), **(external_context or {})}
        return super().execute(task, script, context)


def script_engine(functions: dict[str, Any] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine that runs everything in the sandbox.

    Diagrams get the date functions of engine.sandbox.dates (and `functions`, if given);
    service tasks go to the registered operations; a script step reads its properties.
    """
    return DiagramScriptEngine(
        environment=SandboxEnvironment({**DIAGRAM_FUNCTIONS, **(functions or {})})
    )


@register("reschedule_timer")
def reschedule_timer(call: ServiceCall) -> dict[str, str]:
    """Move a waiting timer to a new due time (e.g. a deadline extended by the Secretariat).

    Parameters: `timer` (the timer event's BPMN id), `due` (ISO 8601 with offset).
    """
    timer_id, due = str(call.params["timer"]), str(call.params["due"])
    parse_moment(due, "new due time")
    workflow = call.task.workflow
    while workflow is not None:
        for task, _when in waiting_timers(workflow.top_workflow):
            if task.task_spec.bpmn_id == timer_id and task.workflow is workflow:
                task.internal_data["event_value"] = due
                return {"timer": timer_id, "due": due}
        workflow = workflow.parent_workflow
    raise EngineError(f"no timer '{timer_id}' is waiting in this procedure")


# The one every instance is loaded and started with.
DIAGRAM_SCRIPT_ENGINE = script_engine()
