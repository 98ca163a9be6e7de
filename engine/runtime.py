"""Load, run and save one instance; rewrite its inbox and timer projections on every save."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, task_events, timer_events
from engine.errors import ConcurrentUpdate, EngineError
from engine.guarded_writes import write_or_conflict
from engine.kept_workflows import (
    KeptRows,
    OpenTasks,
    Projections,
    RowValues,
    TimerKeys,
    kept_workflows,
)
from engine.rows_as_read import (
    asserted_columns,
    attached,
    column_attributes,
    row_values,
    unchanging_columns,
)
from engine.sandbox import script_engine
from engine.specs import (
    spec_cache,
    specs_from_json,
    workflow_from_json,
    workflow_state,
)
from engine.task_descriptions import describe_task, due_at, is_timer, properties, timer_due
from engine.task_tree import ready_or_waiting
from models import HumanTask, ProcessDefinition, ProcessInstance, Timer

_SCRIPT_ENGINE = script_engine()


@dataclass
class LoadedInstance:
    """An instance row and its live workflow."""

    row: ProcessInstance
    workflow: BpmnWorkflow
    # The waiting timers as the timer table holds them, (task id, BPMN id, due time); None
    # when not known, so that the next save writes them all.
    saved_timers: TimerKeys | None = None
    # The open inbox rows as the table holds them; None when not known, so the next save
    # reads them.
    saved_open_tasks: OpenTasks | None = None
    # Of those, the rows whose every column is known (as the last save left them), by id.
    saved_task_rows: dict[int, RowValues] | None = None
    # Set when the rows were not read in this unit of work but taken from memory as the last
    # save left them (load_kept_for_task): the first writes then assert them whole.
    unread: bool = False

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
    kept = kept_workflows.take(row.id, row.state_json, specs)
    if kept is not None:
        workflow, saved = kept
        workflow.script_engine = _SCRIPT_ENGINE
        return LoadedInstance(row, workflow, saved.timers, saved.open_tasks, saved.task_rows)
    workflow = workflow_from_json(row.state_json, specs)
    # The script engine is not serialized: a restored workflow must get the sandbox back.
    workflow.script_engine = _SCRIPT_ENGINE
    # The timer table is a projection, written from this very state when it was saved.
    return LoadedInstance(row, workflow, _timer_keys(waiting_timers(workflow)))


def load_kept_for_task(session: Session, task_id: int) -> tuple[HumanTask, LoadedInstance] | None:
    """An open inbox row and its instance as the last save in this process left them, with
    the workflow kept from it, without reading the database; None when this process does not
    hold them (then read them).

    Nothing read says they are still so: the answer's write asserts the inbox row whole, and
    the state's write the instance's version and state text, so a row changed meanwhile (a
    step in another process, a claim) makes the unit of work start again, and read."""
    if session.identity_map:
        return None  # (the unit of work holds rows already: they are read, as they are held)
    taken = kept_workflows.take_for_task(task_id)
    task_rows = dict(taken.projections.task_rows or {}) if taken is not None else {}
    if taken is None or task_id not in task_rows:
        return None
    definition = attached(session, ProcessDefinition, taken.rows.definition)
    row = attached(
        session,
        ProcessInstance,
        {**taken.rows.instance, "state_json": taken.state_json, "definition": definition},
    )
    specs = instance_specs(session, definition, dict(row.called_definitions or {}))
    if taken.spec is not specs[0] or taken.subprocess_specs != specs[1]:
        session.expunge_all()  # the instance was moved to other specs: read it afresh
        return None
    saved = taken.projections
    task = attached(session, HumanTask, task_rows[task_id])
    taken.workflow.script_engine = _SCRIPT_ENGINE
    open_tasks = None if saved.open_tasks is None else dict(saved.open_tasks)
    loaded = LoadedInstance(row, taken.workflow, saved.timers, open_tasks, task_rows, unread=True)
    return task, loaded


def _kept_rows(loaded: LoadedInstance) -> KeptRows | None:
    """The rows this save leaves, for the next step in this process (None when not known)."""
    row = loaded.row
    instance = row_values(row)
    definition = row.__dict__.get("definition")
    if instance is None or definition is None:
        return None
    unchanging = unchanging_columns(definition)
    if unchanging is None:
        return None
    del instance["state_json"]  # (kept as the text the workflow is kept under)
    return KeptRows(instance, unchanging)


def save(session: Session, loaded: LoadedInstance, now: datetime) -> None:
    """Write the state and both projections; a version conflict raises here."""
    row, workflow = loaded.row, loaded.workflow
    state = workflow_state(workflow)
    values: dict[str, Any] = {"state_json": state.text, "updated_at": now}
    if workflow.is_completed() and row.status == "running":
        values.update(status="completed", ended_at=now)
    # The version check first: a step of this instance committed meanwhile by someone else
    # fails here, before any projection row of ours can collide with one of theirs.
    _write_state(session, loaded, values)
    ready, waiting = _ready_and_waiting(workflow)
    if row.status != "running":
        waiting = []
    timers = _timer_keys(waiting)
    # A deadline comes from a waiting boundary timer: while those are as the last save left
    # them, so are the deadlines of the tasks that were open then (unless a task works out
    # its own from its data).
    deadlines_moved = timers != loaded.saved_timers
    _rewrite_human_tasks(session, loaded, now, ready, deadlines_moved)
    _rewrite_timers(session, loaded, timers)
    session.flush()
    # (Where json wrote the state, checked only now: on PostgreSQL the server writes it
    # meanwhile.)
    if row.status == "running" and state.restores_exactly():
        # A copy: the caller still holds `loaded`, and must not change what is kept.
        open_tasks, task_rows = loaded.saved_open_tasks, loaded.saved_task_rows
        saved = Projections(
            loaded.saved_timers,
            None if open_tasks is None else dict(open_tasks),
            None if task_rows is None else dict(task_rows),
        )
        kept_workflows.keep(row.id, row.state_json, workflow, saved, _kept_rows(loaded))


def _write_state(session: Session, loaded: LoadedInstance, values: dict[str, Any]) -> None:
    """Write `values` (and the next version) to the instance row if its version is still the
    one read (and, for a row not read, its state still the text kept); a conflict if not
    (StaleDataError here, or on PostgreSQL the server's refusal at the commit: either way
    the unit of work starts again). The ORM, which still writes any other change of the row,
    then checks the new version."""
    row = loaded.row
    version = row.lock_version
    read: dict[str, Any] = {"lock_version": version}
    if loaded.unread:
        read["state_json"] = row.state_json
        loaded.unread = False  # (from here on the row is as this unit of work wrote it)
    write_or_conflict(
        session,
        row,
        read,
        {**values, "lock_version": version + 1},
        lambda: StaleDataError(
            f"procedure instance {row.id} was changed by someone else since it was read"
        ),
    )


def record_answer(
    session: Session,
    loaded: LoadedInstance,
    row: HumanTask,
    *,
    username: str,
    now: datetime,
    answer: dict[str, Any],
) -> None:
    """Close an open task's inbox row with its answer, before the workflow moves on (so a
    service task reading the answers sees it: on PostgreSQL the read waits for the queued
    write); a conflict if someone else answered it meanwhile (the unit of work starts again,
    and then says who). The instance's projection knows the row is closed, so the save does
    not withdraw it."""
    values = {"status": "completed", "completed_by": username, "completed_at": now}
    # A row not read in this unit of work must still be exactly as kept: open, and held,
    # offered and due as it was when the person was found allowed to answer it.
    read = (
        {key: getattr(row, key) for key in asserted_columns(HumanTask)}
        if loaded.unread
        else {"status": "open"}
    )
    write_or_conflict(
        session,
        row,
        read,
        {**values, "submitted": answer},
        lambda: ConcurrentUpdate(f"'{row.name}' was answered by someone else a moment ago"),
    )
    if loaded.saved_open_tasks is not None:
        loaded.saved_open_tasks.pop(row.task_guid, None)
    if loaded.saved_task_rows is not None:
        loaded.saved_task_rows.pop(row.id, None)


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """User and manual tasks waiting for a person, called processes included."""
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def _open_tasks(session: Session, instance_id: int) -> tuple[OpenTasks, dict[int, RowValues]]:
    """The instance's open inbox rows as the table holds them, and each row whole (for the
    next answer in this process, which then need not read it)."""
    columns = [(attribute.key, attribute.columns[0]) for attribute in column_attributes(HumanTask)]
    found = session.execute(
        select(*(column for _key, column in columns)).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open"
        )
    )
    rows = [dict(zip((key for key, _column in columns), values, strict=True)) for values in found]
    return (
        {row["task_guid"]: (row["id"], row["due_at"]) for row in rows},
        {row["id"]: row for row in rows},
    )


def _rewrite_human_tasks(
    session: Session,
    loaded: LoadedInstance,
    now: datetime,
    ready: list[Task],
    deadlines_moved: bool,
) -> None:
    row = loaded.row
    # Only what a save can change is read, and only when not known from the last save:
    # which tasks are open, and their deadlines.
    # The rows known whole: as the last save left them (or as read now), with what this one
    # changes.
    known_rows = loaded.saved_task_rows if loaded.saved_task_rows is not None else {}
    if loaded.saved_open_tasks is not None:
        open_rows = dict(loaded.saved_open_tasks)
    else:
        open_rows, read_rows = _open_tasks(session, row.id)
        known_rows.update(read_rows)
    still_open: OpenTasks = {}
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
                if task_id in known_rows:
                    known = known_rows[task_id] = dict(known_rows[task_id])
                    known["due_at"] = None if due is None else due.astimezone(UTC)
            still_open[guid] = (task_id, due)
    if open_rows:
        # Withdrawn: open tasks the workflow no longer waits for (not the one just answered).
        gone = [task_id for task_id, _due in open_rows.values()]
        for task_id in gone:
            known_rows.pop(task_id, None)
        session.execute(
            update(HumanTask)
            .where(HumanTask.id.in_(gone), HumanTask.status == "open")
            .values(status="withdrawn", completed_at=now)
        )
    if opened:
        session.flush()
        task_events.opened(session, opened, now)
        still_open.update((t.task_guid, (t.id, t.due_at)) for t in opened)
        for new in opened:
            values = row_values(new)
            if values is not None:
                known_rows[new.id] = values
    loaded.saved_open_tasks = still_open
    loaded.saved_task_rows = {
        task_id: known_rows[task_id]
        for task_id, _due in still_open.values()
        if task_id in known_rows
    }


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


def _ready_and_waiting(workflow: BpmnWorkflow) -> tuple[list[Task], list[tuple[Task, datetime]]]:
    """ready_human_tasks and waiting_timers from one walk of the task tree (a save needs both;
    the walk visits the same tasks as each of theirs)."""
    tasks = ready_or_waiting(workflow)
    ready = [t for t in tasks if t.state == TaskState.READY and t.task_spec.manual]
    return ready, _waiting_timers(tasks)


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
