"""Saving an instance: its state under the optimistic lock, then the inbox and timer
projections of it; and closing an inbox row only while it is as it was read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import ColumnElement, CursorResult, delete, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.diagrams.specs import workflow_to_json
from engine.errors import ConcurrentUpdate
from engine.instances import task_events, timer_events
from engine.instances.loading import LoadedInstance
from engine.instances.task_descriptions import describe_task, due_at, properties
from engine.instances.timers import TimerKeys, timer_keys, waiting_among
from models import HumanTask, ProcessInstance, Timer


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
    timers = timer_keys(waiting_among(tasks)) if row.status == "running" else frozenset()
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
