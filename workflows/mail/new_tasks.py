"""The new-task mail: each holder of a newly opened task is told what it is, whose it is and
when it is due (a listener of the engine's task events, registered on import)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from engine.instances import task_events
from engine.instances.assignment import describe_holder
from models import HumanTask, ProcessInstance
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import candidates_for, holds


def new_task_mail(task: HumanTask, title: str) -> tuple[str, str]:
    """The subject and body telling a holder of a newly opened task."""
    lines = [f"A new task waits for you in IISG Procedures: {task.name}.", ""]
    lines.append(f"Procedure: {title}")
    if task.about:
        lines.append(f"About: {task.about}")
    if not (task.assignee or task.claimed_by):
        lines.append(f"For: {describe_holder(task)}; whoever claims it first takes it")
    lines.append(f"Due: {when(task.due_at)}" if task.due_at else "Due: no due date")
    lines += ["", f"Open the task: {page_link(f'/tasks/{task.id}')}", ""]
    return f"New task: {task.name}", "\n".join(lines)


def tell_holders_of_new_tasks(session: Session, tasks: Sequence[HumanTask], now: datetime) -> None:
    """Mail each holder of each newly opened task (a task_events listener)."""
    people = candidates_for(session, tasks)
    for task in tasks:
        holders = [user for user in people if holds(user, task)]
        if not holders:
            continue
        instance = session.get(ProcessInstance, task.instance_id)
        title = instance.title if instance is not None and instance.title else task.process_key
        subject, body = new_task_mail(task, title)
        for user in holders:
            enqueue(
                session,
                user,
                subject=subject,
                body=body,
                kind="new_task",
                now=now,
                instance_id=task.instance_id,
            )


task_events.subscribe(tell_holders_of_new_tasks)
