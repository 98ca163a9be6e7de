"""Load, run and save one instance; rewrite its inbox and timer projections on every save."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import ColumnElement, CursorResult, delete, select, update
from sqlalchemy.orm import Session

from engine import clock, task_events, timer_events
from engine.errors import ConcurrentUpdate, EngineError
from engine.sandbox import script_engine
from engine.specs import spec_cache, specs_from_json, workflow_from_json, workflow_to_json
from engine.task_descriptions import describe_task, due_at, is_timer, properties, timer_due
from models import HumanTask, ProcessDefinition, ProcessInstance, Timer

_SCRIPT_ENGINE = script_engine()
# The timer rows a state makes: (task id, BPMN id, due time).
TimerKeys = frozenset[tuple[str, str, datetime]]


@dataclass
class LoadedInstance:
    """An instance row and its live workflow."""

    row: ProcessInstance
    workflow: BpmnWorkflow
    # The timer rows as the table holds them (it is written from the state on every save);
    # None for a new instance, so that its first save writes them all.
    saved_timers: TimerKeys | None = None

    @property
    def definition(self) -> ProcessDefinition:
        """The version the instance runs on."""
        return self.row.definition


def specs_of(definition: ProcessDefinition) -> tuple[Any, dict[str, Any]]:
    """The (cached) spec objects of a version."""
    return spec_cache.get_or_build(
        f"{definition.id}:{definition.content_hash}",
        lambda: specs_from_json(definition.spec_json),
    )


def resolve_called(session: Session, definition: ProcessDefinition) -> dict[str, int]:
    """The active version of every process a new instance will call, directly or not.

    A version stores the specs of the processes it calls as they were when it was deployed;
    an instance started later must use the versions in force then (an adopted amendment of
    `silent_procedure` applies to every procedure that calls it), and keeps them to the end.
    """
    called: dict[str, int] = {}
    pending = list(specs_of(definition)[1])
    while pending:
        key = pending.pop()
        if key in called:
            continue
        active = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == key, ProcessDefinition.status == "active"
            )
        ).first()
        if active is None:
            continue  # an embedded subprocess, not a process of its own
        called[key] = active.id
        pending.extend(specs_of(active)[1])
    return called


def instance_specs(
    session: Session, definition: ProcessDefinition, called: dict[str, int]
) -> tuple[Any, dict[str, Any]]:
    """The specs of an instance: its version's, with each called process at its fixed version."""
    if not called:
        return specs_of(definition)
    key = f"{definition.id}:{definition.content_hash}:" + ",".join(
        f"{name}={called[name]}" for name in sorted(called)
    )

    def build() -> tuple[Any, dict[str, Any]]:
        spec, embedded = specs_of(definition)
        merged = dict(embedded)
        for name, definition_id in called.items():
            callee = session.get(ProcessDefinition, definition_id)
            if callee is None:
                raise EngineError(f"version {definition_id} of '{name}' is missing")
            callee_spec, callee_embedded = specs_of(callee)
            merged.update({k: v for k, v in callee_embedded.items() if k not in called})
            merged[name] = callee_spec
        return spec, merged

    return spec_cache.get_or_build(key, build)


def new_workflow(
    definition: ProcessDefinition,
    called: dict[str, int] | None = None,
    session: Session | None = None,
) -> BpmnWorkflow:
    """A fresh workflow of a version, with the sandbox attached."""
    if called and session is not None:
        spec, subprocess_specs = instance_specs(session, definition, called)
    else:
        spec, subprocess_specs = specs_of(definition)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=_SCRIPT_ENGINE)


def load(session: Session, instance_id: int) -> LoadedInstance:
    """Read an instance and restore its workflow, with the sandbox attached."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise EngineError(f"there is no procedure instance {instance_id}")
    specs = instance_specs(session, row.definition, dict(row.called_definitions or {}))
    workflow = workflow_from_json(row.state_json, specs)
    # The script engine is not serialized: a restored workflow must get the sandbox back.
    workflow.script_engine = _SCRIPT_ENGINE
    return LoadedInstance(row, workflow, _timer_keys(waiting_timers(workflow)))


def save(session: Session, loaded: LoadedInstance, now: datetime) -> None:
    """Write the state, then the inbox and timer projections of it.

    The state goes first, checked by the instance's optimistic lock: if someone else saved
    the instance since it was read, StaleDataError is raised here (the unit of work starts
    again) before any projection row of ours can collide with one of theirs.
    """
    row, workflow = loaded.row, loaded.workflow
    row.state_json = workflow_to_json(workflow)
    row.updated_at = now
    if workflow.is_completed() and row.status == "running":
        row.status, row.ended_at = "completed", now
    session.flush()
    tasks = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    ready = [task for task in tasks if task.state == TaskState.READY and task.task_spec.manual]
    timers = _timer_keys(_waiting_timers(tasks)) if row.status == "running" else frozenset()
    # A deadline comes from a waiting boundary timer: while those are as they were, so are
    # the deadlines of the tasks already open (unless a task works out its own).
    _rewrite_human_tasks(session, row, now, ready, deadlines_moved=timers != loaded.saved_timers)
    _rewrite_timers(session, loaded, timers)
    session.flush()


def update_task_if(
    session: Session,
    row: HumanTask,
    unchanged: Iterable[ColumnElement[bool]],
    values: dict[str, Any],
    conflict: str,
) -> None:
    """Write `values` to an inbox row only while `unchanged` still holds of it in the
    database; ConcurrentUpdate(conflict) if not (someone else wrote first: the unit of work
    starts again from what is stored now). The loaded row is given the new values too."""
    written = cast(
        CursorResult[Any],
        session.execute(
            update(HumanTask).where(HumanTask.id == row.id, *unchanged).values(**values)
        ),
    )
    if written.rowcount != 1:
        raise ConcurrentUpdate(conflict)


def record_answer(
    session: Session,
    row: HumanTask,
    *,
    username: str,
    now: datetime,
    answer: dict[str, Any],
) -> None:
    """Close an open task's inbox row with its answer, before the workflow moves on (so that
    a service task reading the answers sees it); a conflict if someone else answered it
    meanwhile (the unit of work starts again, and then says who)."""
    update_task_if(
        session,
        row,
        [HumanTask.status == "open"],
        {"status": "completed", "completed_by": username, "completed_at": now, "submitted": answer},
        f"'{row.name}' was answered by someone else a moment ago",
    )


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """User and manual tasks waiting for a person, called processes included."""
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def _rewrite_human_tasks(
    session: Session,
    row: ProcessInstance,
    now: datetime,
    ready: list[Task],
    *,
    deadlines_moved: bool,
) -> None:
    """Open an inbox row for each new ready task, move the deadlines that moved, and withdraw
    the open rows the workflow no longer waits for."""
    open_rows = {
        guid: (task_id, due)
        for task_id, guid, due in session.execute(
            select(HumanTask.id, HumanTask.task_guid, HumanTask.due_at).where(
                HumanTask.instance_id == row.id, HumanTask.status == "open"
            )
        )
    }
    opened: list[HumanTask] = []
    with clock.at(now):
        for task in ready:
            guid = str(task.id)
            existing = open_rows.pop(guid, None)
            if existing is None:
                new = HumanTask(
                    instance_id=row.id,
                    task_guid=guid,
                    process_key=row.process_key,
                    status="open",
                    created_at=now,
                    **describe_task(task),
                )
                session.add(new)
                opened.append(new)
                continue
            # A task already in the inbox keeps its description; only its deadline can move
            # (an extension), so only that is worked out again, and only when it can have.
            task_id, saved_due = existing
            props = properties(task)
            due = due_at(task, props) if deadlines_moved or props.get("dueAt") else saved_due
            if saved_due != due:
                session.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due))
    if open_rows:
        session.execute(
            update(HumanTask)
            .where(
                HumanTask.id.in_([task_id for task_id, _due in open_rows.values()]),
                HumanTask.status == "open",
            )
            .values(status="withdrawn", completed_at=now)
        )
    if opened:
        session.flush()
        task_events.opened(session, opened, now)


def _rewrite_timers(session: Session, loaded: LoadedInstance, timers: TimerKeys) -> None:
    row = loaded.row
    # Most steps leave the timers as they were: then the table is left alone too.
    if timers != loaded.saved_timers:
        session.execute(delete(Timer).where(Timer.instance_id == row.id))
        for guid, bpmn_id, due in timers:
            session.add(Timer(instance_id=row.id, task_guid=guid, bpmn_id=bpmn_id, due_at=due))
        loaded.saved_timers = timers
    if timers:
        timer_events.planned(min(due for _guid, _bpmn_id, due in timers))


def _timer_keys(waiting: list[tuple[Task, datetime]]) -> TimerKeys:
    """The timer rows the waiting timers make: (task id, BPMN id, due time)."""
    return frozenset(
        (str(task.id), task.task_spec.bpmn_id or task.task_spec.name, due) for task, due in waiting
    )


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[Task, datetime]]:
    """Every waiting timer task of the instance (called processes included) and its due time."""
    return _waiting_timers(workflow.get_tasks(state=TaskState.WAITING))


def _waiting_timers(tasks: Iterable[Task]) -> list[tuple[Task, datetime]]:
    found: list[tuple[Task, datetime]] = []
    for task in tasks:
        if task.state == TaskState.WAITING and is_timer(task):
            due = timer_due(task)
            if due is not None:
                found.append((task, due))
    return found


def find_task(loaded: LoadedInstance, task_guid: str) -> Task | None:
    """The workflow task with this id, anywhere in the instance."""
    task: Task | None = loaded.workflow.get_task_from_id(UUID(task_guid))
    return task


def data_waiting_at(workflow: BpmnWorkflow, bpmn_id: str) -> dict[str, Any] | None:
    """The data of the step `bpmn_id` while it waits (an event not yet arrived), else None."""
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if task.task_spec.bpmn_id == bpmn_id:
            return dict(task.data)
    return None


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The top-level data as it stands: where the procedure is now, or where it ended."""
    if workflow.is_completed():
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
