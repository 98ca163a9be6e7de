"""What the JSON API reads and does, as plain data: tasks, procedure instances and Board
decisions in the field names the API promises, and the same rules as the web pages.

Every change goes through the same engine and workflows functions as the inbox, so the
audit trail and the mail are the same whichever way a person works.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.assignment import Participant, offered_clause
from engine.diagram_state import step_names
from engine.errors import NotAllowed
from engine.forms import load_form
from engine.runtime import load
from models import Decision, DecisionAnswer, HumanTask, ProcessInstance
from workflows.access import NoAccess, may_read_task, may_see_instance
from workflows.board_pages import may_read_registers
from workflows.inbox import INBOX_SHOWN, InboxFilter, open_tasks
from workflows.procedure_pages import catalogue, open_tasks_of, timeline
from workflows.roles import BOARD_SEAT_CODES, BOARD_SEATS

REGISTER_REFUSAL = "The decision register is for IISG members, Board members and the Secretariat."


class NoSuchThing(Exception):
    """What the request names does not exist, or not for this person (shown as 404)."""


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 with its offset (stored moments are UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def task_data(task: HumanTask) -> dict[str, Any]:
    """A task in the API's field names."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process": task.process_key,
        "name": task.name,
        "role": task.role,
        "scope": {
            "partner": task.organisation,
            "pillar": task.pillar,
            "assignee": task.assignee,
        },
        "claimed_by": task.claimed_by,
        "due_at": iso(task.due_at),
        "status": task.status,
    }


def my_open_tasks(
    session: Session, participant: Participant, chosen: InboxFilter, now: datetime
) -> list[dict[str, Any]]:
    """The open tasks the inbox shows this person with these filters."""
    return [task_data(row.task) for row in open_tasks(session, participant, chosen, now)]


def _visible_task(session: Session, participant: Participant, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NoSuchThing(f"There is no task {task_id}.")
    if not may_read_task(participant, task):
        raise NotAllowed(f"Task {task_id} is not one of your tasks, so it is not shown to you.")
    return task


def task_detail(session: Session, participant: Participant, task_id: int) -> dict[str, Any]:
    """One task with its documentation and form schema (None when it takes no data)."""
    task = _visible_task(session, participant, task_id)
    instance = session.get_one(ProcessInstance, task.instance_id)
    return {
        **task_data(task),
        "documentation": task.documentation,
        "form": load_form(instance.definition.files, task.form),
    }


def processes(session: Session, participant: Participant) -> list[dict[str, Any]]:
    """The catalogue: each procedure new instances start on, and whether this person may."""
    return [
        {
            "process": p.key,
            "name": p.name,
            "version": p.version,
            "description": p.description,
            "may_start": p.may_start,
        }
        for p in catalogue(session, participant)
    ]


def _instance_summary(instance: ProcessInstance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "process": instance.process_key,
        "version": instance.definition.version,
        "title": instance.title,
        "status": instance.status,
        "started_at": iso(instance.started_at),
        "ended_at": iso(instance.ended_at),
    }


def visible_instances(session: Session, participant: Participant) -> list[dict[str, Any]]:
    """The instances this person may see, newest first (without tasks and history)."""
    query = select(ProcessInstance)
    if not participant.holds("secretariat"):
        had_task = exists().where(
            HumanTask.instance_id == ProcessInstance.id,
            or_(
                offered_clause(participant),
                HumanTask.completed_by == participant.username,
                HumanTask.claimed_by == participant.username,
            ),
        )
        query = query.where(or_(ProcessInstance.started_by == participant.username, had_task))
    query = query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    return [_instance_summary(i) for i in session.scalars(query.limit(INBOX_SHOWN))]


def instance_detail(session: Session, participant: Participant, instance_id: int) -> dict[str, Any]:
    """One instance: its status, open tasks and history; NoSuchThing or NoAccess if not."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NoSuchThing(f"There is no procedure instance {instance_id}.")
    if not may_see_instance(session, participant, instance_id):
        raise NoAccess(
            "This procedure is for the Secretariat and for the people who have a task in it."
        )
    names = step_names(load(session, instance_id).workflow)
    return {
        **_instance_summary(instance),
        "open_tasks": [task_data(t.task) for t in open_tasks_of(session, instance_id)],
        "history": [
            {"at": iso(entry.at), "event": entry.words}
            for entry in timeline(session, instance_id, names)
        ],
    }


def _answers(answers: list[DecisionAnswer]) -> list[dict[str, Any]]:
    by_seat = {a.seat: a for a in answers}
    order = [s.code for s in BOARD_SEATS] + sorted(set(by_seat) - BOARD_SEAT_CODES)
    return [
        {
            "seat": code,
            "answer": answer.answer,
            "silence": answer.answer == "silence",
            "reason": answer.reason,
            "who": answer.answered_by,
            "when": iso(answer.answered_at),
        }
        for code in order
        if (answer := by_seat.get(code)) is not None
    ]


def decision_data(decision: Decision) -> dict[str, Any]:
    """A Board decision with each seat's recorded answer or silence (none while it is open)."""
    return {
        "id": decision.id,
        "instance_id": decision.instance_id,
        "method": decision.method,
        "subject": decision.subject,
        "text_sha256": decision.text_sha256,
        "launched_at": iso(decision.launched_at),
        "deadline": iso(decision.deadline),
        "closed_at": iso(decision.closed_at),
        "outcome": decision.outcome,
        "answers": _answers(list(decision.answers)),
    }


def _check_register_reader(participant: Participant) -> None:
    if not may_read_registers(participant):
        raise NotAllowed(REGISTER_REFUSAL)


def decisions(session: Session, participant: Participant) -> list[dict[str, Any]]:
    """The decision register, the newest first."""
    _check_register_reader(participant)
    found = session.scalars(
        select(Decision).order_by(Decision.launched_at.desc(), Decision.id.desc())
    )
    return [decision_data(d) for d in found]


def decision_detail(session: Session, participant: Participant, decision_id: int) -> dict[str, Any]:
    """One decision of the register; NoSuchThing when there is none."""
    _check_register_reader(participant)
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NoSuchThing(f"There is no decision {decision_id}. Start from GET /decisions.")
    return decision_data(decision)
