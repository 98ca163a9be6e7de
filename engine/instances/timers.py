"""The timers an instance waits on: each waiting timer task and its due time, and the timer
rows they make."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState

from engine.instances.task_descriptions import is_timer, timer_due

# The timer rows a state makes: (task id, BPMN id, due time).
TimerKeys = frozenset[tuple[str, str, datetime]]


def timer_keys(waiting: list[tuple[Task, datetime]]) -> TimerKeys:
    """The timer rows the waiting timers make: (task id, BPMN id, due time)."""
    return frozenset(
        (str(task.id), task.task_spec.bpmn_id or task.task_spec.name, due) for task, due in waiting
    )


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[Task, datetime]]:
    """Every waiting timer task of the instance (called processes included) and its due time."""
    return waiting_among(workflow.get_tasks(state=TaskState.WAITING))


def waiting_among(tasks: Iterable[Task]) -> list[tuple[Task, datetime]]:
    """The waiting timer tasks among `tasks`, with their due times."""
    found: list[tuple[Task, datetime]] = []
    for task in tasks:
        if task.state == TaskState.WAITING and is_timer(task):
            due = timer_due(task)
            if due is not None:
                found.append((task, due))
    return found
