"""What the inbox pages read: one task with its form and its procedure's documents and
comments, the tasks someone did, and where documents are kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.forms import load_form
from engine.errors import TaskNotFound
from engine.instances.assignment import Participant
from engine.instances.cancellation import cancellation_of
from models import HumanTask, ProcessDefinition, ProcessInstance
from webui.forms_html import submitted_answers
from webui.settings import max_upload_bytes
from workflows.inbox.comments import COMMENT_MAX_CHARS, comments
from workflows.inbox.documents import ACCEPTED, documents, size_words
from workflows.inbox.filters import (
    SORTS,
    STATES,
    partner_choices,
    pillar_choices,
    procedure_choices,
)
from workflows.inbox.task_forms import task_form
from workflows.inbox.tasks import INBOX_SHOWN
from workflows.matter import task_matter
from workflows.procedures.access import may_see_instance

# "Done by me" shows the most recent ones; older work stays in the audit trail.
DONE_SHOWN = 100


@dataclass(frozen=True)
class InboxRow:
    """A task and the title of the procedure it belongs to."""

    task: HumanTask
    procedure: str
    answers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TaskPage:
    """A task, its procedure instance and its form, made for this task (None when the step
    takes no data)."""

    task: HumanTask
    instance: ProcessInstance
    schema: dict[str, Any] | None


def done_tasks(session: Session, username: str) -> list[InboxRow]:
    """The tasks the person completed, newest first, with what they submitted."""
    rows = session.execute(
        select(HumanTask, ProcessInstance.title, ProcessInstance.definition_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.completed_by == username, HumanTask.status == "completed")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(DONE_SHOWN)
    ).all()
    # One query for the form files of every version involved, not one per task.
    wanted = {definition_id for _, _, definition_id in rows}
    files = {
        definition_id: forms
        for definition_id, forms in session.execute(
            select(ProcessDefinition.id, ProcessDefinition.files).where(
                ProcessDefinition.id.in_(wanted)
            )
        )
    }
    found = []
    for task, title, definition_id in rows:
        forms = files.get(definition_id, {})
        schema = load_form(forms, task.form) if task.form in forms else None
        found.append(InboxRow(task, title, submitted_answers(schema, task.submitted or {})))
    return found


def task_page(session: Session, task_id: int) -> TaskPage:
    """A task with its procedure and form; TaskNotFound when there is no such task."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskNotFound(f"there is no task {task_id}")
    instance = session.get_one(ProcessInstance, task.instance_id)
    return TaskPage(task, instance, task_form(session, task))


def task_extras(session: Session, page: TaskPage, participant: Participant) -> dict[str, Any]:
    """What the task page shows beside the form: the matter its step shows, the link to its
    procedure (for those who may open it), the claim, documents and comments."""
    matter = task_matter(session, page.task)
    return {
        "matter": matter,
        # Each earlier step's answers in words, as "Done by me" shows them.
        "matter_answers": [
            (step, submitted_answers(step.schema, step.submitted))
            for step in (matter.answers if matter else [])
        ],
        "may_see_procedure": may_see_instance(session, participant, page.instance.id),
        "documents": documents(session, page.instance.id),
        "comments": comments(session, page.instance.id),
        "accepted_types": ACCEPTED,
        "max_upload": size_words(max_upload_bytes()),
        "comment_max_chars": COMMENT_MAX_CHARS,
        "withdrawal": (
            cancellation_of(session, page.instance.id)
            if page.instance.status == "cancelled"
            else None
        ),
    }


SECTIONS = (
    (
        "mine",
        lazy_gettext("Claimed by me or assigned to me"),
        lazy_gettext("Nothing claimed by you or assigned to you."),
    ),
    ("roles", lazy_gettext("For my roles"), lazy_gettext("Nothing waits for the roles you hold.")),
    ("others", lazy_gettext("Everyone else's"), ""),
)


def inbox_choices(session: Session) -> dict[str, Any]:
    """The choices of the inbox's filter form, and its sections."""
    return {
        "procedures": procedure_choices(session),
        "pillars": pillar_choices(),
        "partners": partner_choices(),
        "states": STATES,
        "sorts": SORTS,
        # Plain strings, escaped like any other text: a lazy string would count as markup.
        "sections": [(key, str(heading), str(empty)) for key, heading, empty in SECTIONS],
        "shown_at_most": INBOX_SHOWN,
    }
