"""Which open tasks a person sees in the inbox, found in one query, and who each is for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, ScalarSelect, or_, select
from sqlalchemy.orm import Session, aliased

from engine.instances.assignment import Participant, is_offered_to, open_offered_clause
from models import HumanTask, ProcessInstance
from workflows.inbox.filters import InboxFilter
from workflows.people.roles import ROLES, partner_name
from workflows.refusals import NoAccess

# Enough for any one person's work; the Secretariat narrows "everyone's tasks" with filters.
INBOX_SHOWN = 500


Section = Literal["mine", "roles", "others"]


@dataclass(frozen=True)
class InboxRow:
    """An open task as the inbox lists it."""

    task: HumanTask
    procedure: str
    scope: str
    section: Section


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its `%`, `_` and `\\` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(text: str, title: ScalarSelect[str]) -> ColumnElement[bool]:
    pattern = like_pattern(text)
    return or_(
        HumanTask.name.ilike(pattern, escape="\\"),
        title.ilike(pattern, escape="\\"),
    )


def _title(task: type[HumanTask]) -> ScalarSelect[str]:
    # Looked up by primary key for each task found rather than joined: a join may be planned
    # as a read of every instance ever run, to find the few tasks that are open.
    return (
        select(ProcessInstance.title)
        .where(ProcessInstance.id == task.instance_id)
        .scalar_subquery()
    )


def open_tasks(
    session: Session, person: Participant, chosen: InboxFilter, now: datetime
) -> list[InboxRow]:
    """The open tasks the person sees with these filters, in one query.

    Everyone's tasks are for the Secretariat only (to see who holds what and reassign it).
    """
    if chosen.everyone and not person.holds("secretariat"):
        raise NoAccess("Only the Secretariat sees everyone's tasks.")
    query = select(HumanTask)
    if chosen.everyone:
        query = query.where(HumanTask.status == "open")
    else:
        query = query.where(open_offered_clause(person))
    if chosen.procedure:
        query = query.where(HumanTask.process_key == chosen.procedure)
    if chosen.pillar:
        query = query.where(HumanTask.pillar == chosen.pillar)
    if chosen.partner:
        query = query.where(HumanTask.organisation == chosen.partner)
    if chosen.state == "late":
        query = query.where(HumanTask.due_at < now)
    if chosen.search:
        query = query.where(_search(chosen.search, _title(HumanTask)))
    # The tasks are found first, through their indexes, and only then sorted and cut: a
    # plan made once for any person (a prepared statement) could otherwise walk the due-date
    # index through every task ever completed, to stop after the first few hundred.
    found = query.cte("found").prefix_with("MATERIALIZED")
    task = aliased(HumanTask, found)
    title = _title(task)
    due_first = (task.due_at.asc().nulls_last(), task.created_at, task.id)
    order: tuple[Any, ...]
    if chosen.sort == "created":
        order = (task.created_at.desc(), task.id.desc())
    elif chosen.sort == "procedure":
        order = (title, *due_first)
    else:
        order = due_first
    rows = session.execute(select(task, title).order_by(*order).limit(INBOX_SHOWN)).all()
    return [
        InboxRow(found_task, found_title, scope_words(found_task), _section(person, found_task))
        for found_task, found_title in rows
    ]


def _section(person: Participant, task: HumanTask) -> Section:
    if person.username in (task.claimed_by, task.assignee):
        return "mine"
    if is_offered_to(person, task) and task.claimed_by is None:
        return "roles"
    return "others"


def scope_words(task: HumanTask) -> str:
    """Who a task is for, in words: the role and its seat or partner and pillar."""
    if task.assignee:
        return f"Assigned to {task.assignee}"
    role = ROLES[task.role].lane if task.role in ROLES else task.role.replace("_", " ")
    parts = [role]
    if task.organisation:
        parts.append(partner_name(task.organisation))
    if task.pillar:
        parts.append(f"pillar {task.pillar}")
    return " · ".join(parts)
