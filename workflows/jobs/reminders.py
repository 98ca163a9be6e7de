"""Reminders before a task's due time and the Secretariat's notice when it passes.

A scheduler pass job. Every open task with a due time gets a reminder a number of working
days before it (settings; by default 3 and 1), counted on the calendar of the task's partner;
only the people the task is still offered to are reminded, so in a silent procedure only the
seats that have not answered hear of it. When a due time passes with tasks not done (still
open, or withdrawn by the deadline itself), the Secretariat is told once per procedure and due
time.

Exactly once: each reminder and each notice writes a `Notice` row with a unique key in the same
transaction as its mail and audit record; a second scheduler doing the same work at the same
moment fails on that key and leaves it to the first. A deadline that is extended gets its
reminders again, counted from the new due time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from engine import audit
from engine.instances.unit_of_work import run_in_transaction
from engine.sandbox.dates import holidays_between
from engine.scheduler.passes import JobOutcome, PassJob
from models import HumanTask, Notice, ProcessInstance
from workflows.inbox.deadlines import HORIZON, reminder_moments
from workflows.mail.compose import enqueue
from workflows.mail.notices import claim_notice
from workflows.mail.recipients import holders_of, secretariat
from workflows.people.roles import partner_name
from workflows.settings import ProcedureSettings

log = logging.getLogger("iisg.reminders")
# Reminders are looked for among tasks due within the horizon; tasks due later are looked at
# again when they come within it.
_HORIZON = HORIZON


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%A %d %B %Y, %H:%M UTC")


def _days(n: int) -> str:
    return "1 working day" if n == 1 else f"{n} working days"


@dataclass(frozen=True)
class _Reminder:
    task_id: int
    working_days: int
    key: str


def _reminder_key(task: HumanTask, working_days: int) -> str:
    assert task.due_at is not None
    return f"reminder:{task.task_guid}:{task.due_at.astimezone(UTC).isoformat()}:{working_days}"


def _task_link(settings: ProcedureSettings, task: HumanTask) -> str:
    return f"{settings.mail.base_url.rstrip('/')}/tasks/{task.id}"


def _about(task: HumanTask) -> str:
    if task.about:
        return task.about
    if task.organisation:
        return partner_name(task.organisation)
    return ""


def _send_reminder(
    factory: sessionmaker[Session], settings: ProcedureSettings, reminder: _Reminder, now: datetime
) -> int:
    def work(session: Session) -> int:
        task = session.get(HumanTask, reminder.task_id)
        if task is None or task.status != "open" or task.due_at is None:
            return 0
        if not claim_notice(session, reminder.key, now):
            return 0
        instance = session.get(ProcessInstance, task.instance_id)
        title = instance.title if instance is not None and instance.title else task.process_key
        people = holders_of(session, task)
        about = _about(task)
        subject = f"Reminder: '{task.name}' is due in {_days(reminder.working_days)}"
        body = (
            f"'{task.name}'{f' ({about})' if about else ''} in '{title}' is due on "
            f"{_when(task.due_at)}, in {_days(reminder.working_days)}.\n\n"
            f"Open it here: {_task_link(settings, task)}\n"
        )
        for person in people:
            enqueue(
                session,
                person,
                subject=subject,
                body=body,
                kind="reminder",
                now=now,
                instance_id=task.instance_id,
            )
        audit.record(
            session,
            kind="task.reminded",
            actor="scheduler",
            now=now,
            instance_id=task.instance_id,
            payload={
                "task": task.bpmn_id,
                "task_guid": task.task_guid,
                "due_at": task.due_at.astimezone(UTC).isoformat(),
                "working_days_before": reminder.working_days,
                "to": [p.username for p in people],
            },
        )
        return 1

    result: int = run_in_transaction(factory, work)
    return result


def _reminders(
    factory: sessionmaker[Session], settings: ProcedureSettings, now: datetime
) -> tuple[int, datetime | None]:
    offsets = settings.reminders.working_days_before
    if not offsets:
        return 0, None
    due: list[_Reminder] = []
    upcoming: list[datetime] = []
    with factory() as session:
        tasks = session.scalars(
            select(HumanTask).where(
                HumanTask.status == "open",
                HumanTask.optional.is_(False),
                HumanTask.due_at > now,
                HumanTask.due_at <= now + _HORIZON,
            )
        ).all()
        # The holidays of each partner's calendar, read once for every task of the pass.
        first, last = (now - _HORIZON).date(), (now + _HORIZON).date()
        calendars: dict[str | None, set[date]] = {}
        for task in tasks:
            assert task.due_at is not None
            if task.organisation not in calendars:
                calendars[task.organisation] = holidays_between(
                    session, task.organisation, first, last
                )
            moments = reminder_moments(session, task, offsets, calendars[task.organisation])
            # Only reminders planned after the task was opened; when several have passed
            # (the scheduler was down), only the latest is sent.
            passed = [n for n, at in moments.items() if task.created_at < at <= now]
            if passed:
                nearest = min(passed)
                due.append(_Reminder(task.id, nearest, _reminder_key(task, nearest)))
            upcoming.extend(at for at in moments.values() if at > now)
        later = session.scalar(
            select(HumanTask.due_at)
            .where(
                HumanTask.status == "open",
                HumanTask.optional.is_(False),
                HumanTask.due_at > now + _HORIZON,
            )
            .order_by(HumanTask.due_at)
            .limit(1)
        )
    if later is not None:
        upcoming.append(later - _HORIZON)
    sent = sum(_send_reminder(factory, settings, r, now) for r in due)
    return sent, min(upcoming) if upcoming else None


def _overdue_query(now: datetime, within: timedelta) -> Select[HumanTask]:
    """Tasks whose due time passed (within `within`) before they were done: still open, or
    withdrawn by the deadline."""
    return (
        select(HumanTask)
        .where(
            HumanTask.due_at <= now,
            HumanTask.due_at > now - within,
            HumanTask.optional.is_(False),
            or_(
                HumanTask.status == "open",
                and_(HumanTask.status == "withdrawn", HumanTask.completed_at >= HumanTask.due_at),
            ),
        )
        .order_by(HumanTask.instance_id, HumanTask.due_at, HumanTask.id)
    )


def _overdue(
    session: Session, now: datetime, within: timedelta
) -> dict[tuple[int, datetime], list[HumanTask]]:
    """The overdue tasks per instance and due time."""
    groups: dict[tuple[int, datetime], list[HumanTask]] = defaultdict(list)
    for task in session.scalars(_overdue_query(now, within)):
        assert task.due_at is not None
        groups[(task.instance_id, task.due_at)].append(task)
    return groups


def _escalation_key(instance_id: int, due_at: datetime) -> str:
    return f"overdue:{instance_id}:{due_at.astimezone(UTC).isoformat()}"


def _tell_secretariat(
    factory: sessionmaker[Session],
    settings: ProcedureSettings,
    instance_id: int,
    due_at: datetime,
    now: datetime,
) -> int:
    def work(session: Session) -> int:
        if not claim_notice(session, _escalation_key(instance_id, due_at), now):
            return 0
        # Read again in this unit of work (a step may have been done since), this group only.
        within = timedelta(days=settings.reminders.escalate_within_days)
        tasks = session.scalars(
            _overdue_query(now, within).where(
                HumanTask.instance_id == instance_id, HumanTask.due_at == due_at
            )
        ).all()
        if not tasks:
            return 0
        instance = session.get(ProcessInstance, instance_id)
        title = instance.title if instance is not None and instance.title else tasks[0].process_key
        lines = []
        for task in tasks:
            about = _about(task)
            state = "still open" if task.status == "open" else "closed by the deadline"
            lines.append(f"- {task.name}{f' ({about})' if about else ''}: {state}")
        subject = f"Deadline passed: {title}"
        body = (
            f"The deadline of {_when(due_at)} in '{title}' has passed; "
            f"{len(tasks)} step(s) were not done by then:\n"
            + "\n".join(lines)
            + f"\n\nThe procedure: {settings.mail.base_url.rstrip('/')}/instances/{instance_id}\n"
        )
        people = secretariat(session)
        for person in people:
            enqueue(
                session,
                person,
                subject=subject,
                body=body,
                kind="escalation",
                now=now,
                instance_id=instance_id,
            )
        audit.record(
            session,
            kind="task.overdue",
            actor="scheduler",
            now=now,
            instance_id=instance_id,
            payload={
                "due_at": due_at.astimezone(UTC).isoformat(),
                "tasks": [
                    {"task": t.bpmn_id, "task_guid": t.task_guid, "status": t.status} for t in tasks
                ],
                "to": [p.username for p in people],
            },
        )
        return 1

    result: int = run_in_transaction(factory, work)
    return result


def _escalations(
    factory: sessionmaker[Session], settings: ProcedureSettings, now: datetime
) -> tuple[int, datetime | None]:
    if not settings.reminders.tell_secretariat_at_due:
        return 0, None
    within = timedelta(days=settings.reminders.escalate_within_days)
    with factory() as session:
        groups = list(_overdue(session, now, within))
        keys = {_escalation_key(i, d): (i, d) for i, d in groups}
        done = set(
            session.scalars(select(Notice.key).where(Notice.key.in_(list(keys)))) if keys else []
        )
        next_due = session.scalar(
            select(HumanTask.due_at)
            .where(
                HumanTask.status == "open", HumanTask.optional.is_(False), HumanTask.due_at > now
            )
            .order_by(HumanTask.due_at)
            .limit(1)
        )
    told = sum(
        _tell_secretariat(factory, settings, instance_id, due_at, now)
        for key, (instance_id, due_at) in keys.items()
        if key not in done
    )
    return told, next_due


def reminders_job(settings: ProcedureSettings) -> PassJob:
    """The pass job: reminders that are due, then the Secretariat's notices of passed deadlines."""

    def remind_and_escalate(factory: sessionmaker[Session], now: datetime) -> JobOutcome:
        reminded, next_reminder = _reminders(factory, settings, now)
        told, next_deadline = _escalations(factory, settings, now)
        moments = [m for m in (next_reminder, next_deadline) if m is not None]
        if reminded or told:
            log.info("%d reminder(s), %d deadline notice(s)", reminded, told)
        return JobOutcome(done=reminded + told, next_due=min(moments) if moments else None)

    return remind_and_escalate
