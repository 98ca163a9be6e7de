"""Finding tasks and data in a live workflow: the steps waiting for a person, a task by id,
the data where the procedure stands, where a step waits or it started, the tasks of one
subprocess run."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task, TaskState

from engine.instances.loading import LoadedInstance


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """User and manual tasks waiting for a person, called processes included."""
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def find_task(loaded: LoadedInstance, task_guid: str) -> Task | None:
    """The workflow task with this id, anywhere in the instance; None once the workflow let it
    go (a withdrawn procedure drops its open steps' subprocess)."""
    try:
        task: Task = loaded.workflow.get_task_from_id(UUID(task_guid))
    except TaskNotFoundException:
        return None
    return task


def data_waiting_at(workflow: BpmnWorkflow, bpmn_id: str) -> dict[str, Any] | None:
    """The data of the step `bpmn_id` while it waits (an event not yet arrived), else None."""
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if task.task_spec.bpmn_id == bpmn_id:
            return dict(task.data)
    return None


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The top-level data as it stands: where the procedure is now, or where it ended (for a
    cancelled one, where its last finished step left it: no end event gathered its data)."""
    if workflow.is_completed() and workflow.success:
        return dict(workflow.data)
    under_way = TaskState.READY | TaskState.STARTED | TaskState.WAITING
    top = [t for t in workflow.get_tasks() if t.workflow is workflow]
    standing = [t for t in top if t.state & under_way] or [
        t for t in top if t.state == TaskState.COMPLETED
    ][-1:]
    data: dict[str, Any] = {}
    for task in sorted(standing, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


def start_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data the procedure was started with, however it stands now (ended or withdrawn)."""
    for task in workflow.get_tasks(spec_class=StartEvent):
        if task.workflow is workflow:
            return dict(task.data)
    return {}


def guids_within(task: Task, container_bpmn_id: str, bpmn_id: str) -> set[str]:
    """The ids of the `bpmn_id` tasks inside the subprocess `container_bpmn_id` of the same
    run as `task` (a loop or a second call opens a new run; its tasks are not counted)."""
    workflow = task.workflow
    found: set[str] = set()
    for container in workflow.get_tasks():
        if container.workflow is not workflow or container.task_spec.bpmn_id != container_bpmn_id:
            continue
        subprocess = workflow.top_workflow.get_subprocess(container)
        if subprocess is None:
            continue
        found.update(
            str(inner.id) for inner in subprocess.get_tasks() if inner.task_spec.bpmn_id == bpmn_id
        )
    return found
