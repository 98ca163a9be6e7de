"""Where an instance stands in its own diagram: the steps being worked on now and the steps
completed, by the BPMN ids the diagram viewer marks. Read from the live workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy.orm import Session

from engine.instances.loading import load
from engine.instances.timers import waiting_timers

UNDER_WAY = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass(frozen=True)
class Step:
    """A step of the diagram: its BPMN id and its name."""

    bpmn_id: str
    name: str

    @property
    def named(self) -> bool:
        """False for an unnamed element (a merging gateway, say): the diagram shows it, a
        list of steps leaves it out."""
        return self.name != self.bpmn_id


@dataclass(frozen=True)
class DiagramState:
    """Where an instance stands, by the ids of its own diagram's elements."""

    current: tuple[Step, ...]
    done: tuple[Step, ...]

    def as_json(self) -> dict[str, list[str]]:
        """The ids the diagram viewer marks."""
        return {
            "current": [s.bpmn_id for s in self.current],
            "done": [s.bpmn_id for s in self.done],
        }


def step_names(workflow: BpmnWorkflow) -> dict[str, str]:
    """Every step's name by its BPMN id, called processes included."""
    names: dict[str, str] = {}
    for spec in (workflow.spec, *workflow.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            # A multi-instance task has an unnamed spec beside the named one: keep the name.
            if bpmn_id and (bpmn_id not in names or names[bpmn_id] == bpmn_id):
                names[bpmn_id] = getattr(task_spec, "bpmn_name", None) or bpmn_id
    return names


def _step(task: Task, names: dict[str, str]) -> Step | None:
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    if not bpmn_id:
        return None  # SpiffWorkflow's own bookkeeping, not an element of the diagram
    return Step(bpmn_id, names.get(bpmn_id, bpmn_id))


def _as_drawn(task: Task) -> tuple[Task, bool]:
    """The task as the instance's own diagram draws it: itself, or the outermost call activity
    that runs it (a called process is another diagram); and whether it is the task itself."""
    top = task.workflow.top_workflow
    drawn, itself, current = task, True, task
    while current.workflow is not top:
        caller = top.get_task_from_id(current.workflow.parent_task_id)
        if isinstance(caller.task_spec, CallActivity):
            drawn, itself = caller, False
        current = caller
    return drawn, itself


def _is_current(task: Task, timers: set[Any]) -> bool:
    spec = task.task_spec
    if task.state == TaskState.READY:
        return True
    if task.state == TaskState.STARTED:
        # A subprocess under way (called, or embedded such as the silent procedure's "Board
        # members answer", often drawn collapsed) is where the procedure stands.
        return isinstance(spec, SubWorkflowTask)
    if task.state != TaskState.WAITING:
        return False
    if isinstance(spec, BoundaryEvent):
        return task.id in timers  # an armed error or signal catch is no step of its own
    # A join waiting for its other branches is where the flow meets, not where it stands.
    return not isinstance(spec, ParallelGateway | InclusiveGateway)


def workflow_state(workflow: BpmnWorkflow) -> DiagramState:
    """The steps being worked on now (tasks open, timers waiting) and those completed."""
    timers = {task.id for task, _due in waiting_timers(workflow)}
    names = step_names(workflow)
    current: dict[str, Step] = {}
    done: dict[str, Step] = {}
    # A step with an instance still under way (a multi-instance task, a subprocess, a loop)
    # is not done, even when some of its instances are.
    under_way: set[str] = set()
    for task in workflow.get_tasks():
        drawn, itself = _as_drawn(task)
        step = _step(drawn, names)
        if step is None:
            continue
        if _is_current(task, timers):
            current.setdefault(step.bpmn_id, step)
        if task.state & UNDER_WAY:
            under_way.add(step.bpmn_id)
        elif itself and task.state == TaskState.COMPLETED:
            done.setdefault(step.bpmn_id, step)
    return DiagramState(
        tuple(current.values()),
        tuple(s for key, s in done.items() if key not in under_way),
    )


def diagram_state(session: Session, instance_id: int) -> DiagramState:
    """Where an instance stands in its diagram."""
    return workflow_state(load(session, instance_id).workflow)
