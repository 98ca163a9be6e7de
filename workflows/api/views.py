"""What the JSON API reads and does, as plain data: tasks, procedure instances and Board
decisions in the shapes the API promises (the dataclasses below, from which the OpenAPI
document's schemas are made too), and the same rules as the web pages.

Every change goes through the same engine and workflows functions as the inbox, so the
audit trail and the mail are the same whichever way a person works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from engine.errors import NotAllowed
from engine.instances.assignment import Participant, offered_clause
from engine.instances.diagram_state import step_names
from engine.instances.loading import load
from engine.instances.steps import CANCEL_REASON_MAX_CHARS
from models import Decision as DecisionRow
from models import DecisionAnswer, HumanTask, ProcessInstance
from models import Document as DocumentRow
from models.decisions import ANSWERS, DECISION_METHODS, FINAL_OUTCOMES, ITEM_OUTCOMES, OUTCOMES
from models.process import INSTANCE_STATUSES
from models.tasks import TASK_STATUSES
from workflows.api.contract import described, ref
from workflows.board.readers import may_read_registers
from workflows.board.register import document_names, file_entries
from workflows.inbox.filters import InboxFilter
from workflows.inbox.task_forms import task_form
from workflows.inbox.tasks import INBOX_SHOWN, open_tasks
from workflows.people.roles import BOARD_SEAT_CODES, BOARD_SEATS
from workflows.procedures.access import may_read_task, may_see_instance
from workflows.procedures.pages import catalogue, open_tasks_of, timeline
from workflows.refusals import NoAccess, NoSuchThing

REGISTER_REFUSAL = "The decision register is for IISG members, Board members and the Secretariat."
# A BPMN process id is an XML name (xsd:ID); the database holds 128 characters of it.
PROCESS_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
PROCESS_ID_MAX_CHARS = 128
PROCESS_ID_WORDS = "give a BPMN process id, as GET /processes lists them"
PROCESS_ID = "BPMN process id, as GET /processes lists them"
PROCESS_ID_SCHEMA = described(
    PROCESS_ID, minLength=1, maxLength=PROCESS_ID_MAX_CHARS, pattern=PROCESS_ID_PATTERN
)
FORM_DATA = described("The form's fields", **ref("FormData"))


@dataclass
class Scope:
    """Whom a task is for, beyond its role."""

    partner: Annotated[str | None, described("Partner (Board seat) code")]
    pillar: Annotated[str | None, described("Pillar")]
    assignee: Annotated[str | None, described("The one user the task is for")]


@dataclass
class Task:
    """A task of a procedure, for a role (and a scope)."""

    id: int
    instance_id: int
    process: Annotated[str, described(PROCESS_ID)]
    name: Annotated[str, described("The step's name")]
    role: Annotated[str, described("The role that answers it")]
    scope: Scope
    claimed_by: Annotated[str | None, described("Who claimed it, while claimed")]
    due_at: Annotated[datetime | None, described("When it is due")]
    status: Annotated[str, described("Open, completed or withdrawn", enum=list(TASK_STATUSES))]


@dataclass
class TaskDetail(Task):
    """A task with its documentation and form."""

    documentation: str
    form: Annotated[
        dict[str, Any] | None,
        described(
            "The JSON Schema the data must satisfy, made for this task: a field whose values "
            "depend on the task (marked choicesFrom: the partner's open needs, the "
            "applications on a Board list) lists them as enum, with their labels in "
            "enumNames; null when the step takes no data"
        ),
    ]


@dataclass
class TaskList:
    """The caller's open tasks."""

    tasks: list[Task]


@dataclass
class Process:
    """A procedure new instances start on."""

    process: Annotated[str, described(PROCESS_ID)]
    name: Annotated[str, described("Its name")]
    version: Annotated[int, described("The version new instances start on")]
    description: Annotated[str, described("What it is for")]
    may_start: Annotated[bool, described("Whether the caller may start it")]


@dataclass
class ProcessList:
    """The catalogue."""

    processes: list[Process]


@dataclass
class InstanceSummary:
    """A procedure instance, without its tasks and history."""

    id: int
    process: Annotated[str, described(PROCESS_ID)]
    version: Annotated[int, described("The version of the procedure it runs on")]
    title: str
    status: Annotated[str, described("How it stands", enum=list(INSTANCE_STATUSES))]
    started_at: datetime
    ended_at: Annotated[datetime | None, described("When it ended; null while it runs")]


@dataclass
class HistoryEntry:
    """Something that happened in an instance."""

    at: datetime
    event: Annotated[str, described("What happened, in words")]


@dataclass
class Instance(InstanceSummary):
    """A procedure instance: its status, open tasks and history."""

    open_tasks: list[Task]
    history: list[HistoryEntry]


@dataclass
class InstanceList:
    """The instances the caller may see, newest first."""

    instances: list[InstanceSummary]


@dataclass
class Answer:
    """A Board seat's answer to a decision, or its silence."""

    seat: Annotated[str, described("The Board seat's code")]
    answer: Annotated[str, described("What the seat answered", enum=list(ANSWERS))]
    silence: Annotated[
        bool,
        described(
            "The seat did not answer by the deadline: its silence counted as agreement (a seat "
            "that had not answered when an objection closed the procedure early has no_answer)"
        ),
    ]
    reason: Annotated[str | None, described("The reason given, if any")]
    who: Annotated[str | None, described("Who answered for the seat")]
    when: Annotated[datetime | None, described("When they answered")]
    concerns: Annotated[
        list[str] | None,
        described("The keys of the items on the list an objection named; null: all of them"),
    ] = None


@dataclass
class ListItem:
    """One item of a list the Board decides on, each on its own (an application)."""

    key: Annotated[str, described("The item's key (an applicant organisation's code)")]
    title: str
    outcome: Annotated[
        str | None,
        described(
            "What this record gives it; silence_broken: an objection named it, the meeting "
            "decides it; null while the Board is deciding",
            enum=[*ITEM_OUTCOMES, None],
        ),
    ]


SHA256_PATTERN = "^[0-9a-f]{64}$"


@dataclass
class Document:
    """A file: GET /documents/{id} gives its bytes to those who may see its procedure."""

    id: int
    name: Annotated[str, described("The file's name, as uploaded (cleaned of folders)")]
    media_type: Annotated[str, described("Its media type, e.g. application/pdf")]
    size: Annotated[int, described("Its size in bytes")]
    sha256: Annotated[str, described("SHA-256 of its bytes", pattern=SHA256_PATTERN)]


@dataclass
class Decision:
    """A Board decision of the register."""

    id: int
    instance_id: Annotated[int | None, described("The procedure instance that launched it")]
    method: Annotated[str, described("How the Board decides", enum=list(DECISION_METHODS))]
    subject: str
    text_sha256: Annotated[
        str, described("SHA-256 of the text decided on (UTF-8)", pattern=SHA256_PATTERN)
    ]
    frozen_sha256: Annotated[
        str | None,
        described(
            "The hash that freezes the text and its documents at launch: SHA-256 over the "
            "lines (each ending in a newline) of text_sha256, then each document's sha256 in "
            "the order listed. Null for a record made when documents were names, not files",
            pattern=SHA256_PATTERN,
        ),
    ]
    documents: Annotated[
        list[Document], described("The files the Board decides on, frozen at launch, in order")
    ]
    launched_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    outcome: Annotated[
        str | None,
        described(
            "This record's own outcome, null while the Board is deciding; silence_broken: an "
            "objection broke the silent procedure, which decided nothing",
            enum=[*OUTCOMES, None],
        ),
    ]
    final_outcome: Annotated[
        str | None,
        described(
            "The Board's final outcome on the matter, what the procedure that asked acts on; "
            "null while the Board is deciding (a broken silent procedure waits for the meeting)",
            enum=[*FINAL_OUTCOMES, None],
        ),
    ]
    followed_by: Annotated[
        int | None,
        described("For a silent procedure an objection broke: the meeting decision that followed"),
    ]
    follows: Annotated[
        int | None,
        described("For a meeting decision: the broken silent procedure on the same matter"),
    ]
    withdrawal_reason: Annotated[
        str | None,
        described(
            "Why the matter was withdrawn: its procedure withdrawn while the Board decided, or "
            "the Secretariat's withdrawal after an objection"
        ),
    ]
    answers: Annotated[
        list[Answer], described("Each seat's answer or silence, recorded when the decision closes")
    ]
    items: Annotated[
        list[ListItem], described("A list's items, each decided on its own; empty for one matter")
    ]
    named_documents: Annotated[
        list[str] | None,
        described("Documents named without a file (records made before documents were files)"),
    ] = None


@dataclass
class DecisionList:
    """The decision register, the newest first."""

    decisions: list[Decision]


@dataclass
class Role:
    """A role the caller holds, with its scope."""

    role: str
    organisation: str | None
    pillar: str | None


@dataclass
class Me:
    """Whom the token acts as."""

    username: str
    display_name: str
    roles: list[Role]


@dataclass
class CompleteRequest:
    """What completing a task takes."""

    data: Annotated[dict[str, Any] | None, FORM_DATA] = None


@dataclass
class StartRequest:
    """What starting a procedure takes."""

    process: Annotated[str, PROCESS_ID_SCHEMA]
    data: Annotated[dict[str, Any] | None, FORM_DATA] = None


@dataclass
class CancelRequest:
    """What withdrawing a procedure takes: the reason, which goes on its record and in the mail
    to everyone whose task is withdrawn. An empty reason is refused with 422."""

    reason: Annotated[
        str, described("Why the procedure is withdrawn", maxLength=CANCEL_REASON_MAX_CHARS)
    ]


# A form's data is any JSON the form takes; written as JSON Schema, as no dataclass holds it.
_STORABLE_TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}
FORM_SCHEMAS: dict[str, Any] = {
    "FormValue": {
        "description": "A value of a form's field: JSON whose text holds no NUL character",
        "anyOf": [
            _STORABLE_TEXT,
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": ref("FormValue")},
            ref("FormData"),
        ],
    },
    "FormData": {
        "type": "object",
        "description": (
            "A form's fields. The form itself (GET /tasks/{task_id} gives a task's JSON "
            "Schema, made for that task) says which are required and what they take, down to "
            "the values a field that depends on the task offers (its enum): data that does "
            "not fit it is refused with 400 and `errors` naming each field."
        ),
        "propertyNames": _STORABLE_TEXT,
        "additionalProperties": ref("FormValue"),
    },
}


def task_data(task: HumanTask) -> Task:
    """A task in the API's shape."""
    return Task(
        id=task.id,
        instance_id=task.instance_id,
        process=task.process_key,
        name=task.name,
        role=task.role,
        scope=Scope(partner=task.organisation, pillar=task.pillar, assignee=task.assignee),
        claimed_by=task.claimed_by,
        due_at=task.due_at,
        status=task.status,
    )


def my_open_tasks(
    session: Session, participant: Participant, chosen: InboxFilter, now: datetime
) -> TaskList:
    """The open tasks the inbox shows this person with these filters."""
    return TaskList([task_data(row.task) for row in open_tasks(session, participant, chosen, now)])


def _visible_task(session: Session, participant: Participant, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NoSuchThing(f"There is no task {task_id}.")
    if not may_read_task(participant, task):
        raise NotAllowed(f"Task {task_id} is not one of your tasks, so it is not shown to you.")
    return task


def task_detail(session: Session, participant: Participant, task_id: int) -> TaskDetail:
    """One task with its documentation and form schema (None when it takes no data)."""
    task = _visible_task(session, participant, task_id)
    return TaskDetail(
        **vars(task_data(task)),
        documentation=task.documentation,
        form=task_form(session, task),
    )


def processes(session: Session, participant: Participant) -> ProcessList:
    """The catalogue: each procedure new instances start on, and whether this person may."""
    return ProcessList(
        [
            Process(p.key, p.name, p.version, p.description, p.may_start)
            for p in catalogue(session, participant)
        ]
    )


def _instance_summary(instance: ProcessInstance) -> InstanceSummary:
    return InstanceSummary(
        id=instance.id,
        process=instance.process_key,
        version=instance.definition.version,
        title=instance.title,
        status=instance.status,
        started_at=instance.started_at,
        ended_at=instance.ended_at,
    )


def visible_instances(session: Session, participant: Participant) -> InstanceList:
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
    return InstanceList([_instance_summary(i) for i in session.scalars(query.limit(INBOX_SHOWN))])


def instance_detail(session: Session, participant: Participant, instance_id: int) -> Instance:
    """One instance: its status, open tasks and history; NoSuchThing or NoAccess if not."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NoSuchThing(f"There is no procedure instance {instance_id}.")
    if not may_see_instance(session, participant, instance_id):
        raise NoAccess(
            "This procedure is for the Secretariat and for the people who have a task in it."
        )
    names = step_names(load(session, instance_id).workflow)
    return Instance(
        **vars(_instance_summary(instance)),
        open_tasks=[task_data(t.task) for t in open_tasks_of(session, instance_id)],
        history=[
            HistoryEntry(entry.at, entry.words) for entry in timeline(session, instance_id, names)
        ],
    )


def _answers(answers: list[DecisionAnswer]) -> list[Answer]:
    by_seat = {a.seat: a for a in answers}
    order = [s.code for s in BOARD_SEATS] + sorted(set(by_seat) - BOARD_SEAT_CODES)
    return [
        Answer(
            seat=code,
            answer=answer.answer,
            silence=answer.answer == "silence",
            reason=answer.reason,
            who=answer.answered_by,
            when=answer.answered_at,
            concerns=answer.concerns,
        )
        for code in order
        if (answer := by_seat.get(code)) is not None
    ]


def document_data(document: DocumentRow) -> Document:
    """A stored document in the API's shape."""
    return Document(
        id=document.id,
        name=document.filename,
        media_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
    )


def decision_data(decision: DecisionRow) -> Decision:
    """A Board decision with each seat's recorded answer or silence (none while it is open)."""
    named = document_names(decision)
    return Decision(
        id=decision.id,
        instance_id=decision.instance_id,
        method=decision.method,
        subject=decision.subject,
        text_sha256=decision.text_sha256,
        frozen_sha256=decision.frozen_sha256,
        documents=[
            Document(id=f.id, name=f.name, media_type=f.media_type, size=f.size, sha256=f.sha256)
            for f in file_entries(decision)
        ],
        named_documents=named or None,
        launched_at=decision.launched_at,
        deadline=decision.deadline,
        closed_at=decision.closed_at,
        outcome=decision.outcome,
        final_outcome=decision.final_outcome,
        followed_by=decision.followed_by_id,
        follows=min((earlier.id for earlier in decision.follows), default=None),
        withdrawal_reason=decision.withdrawal_reason,
        answers=_answers(list(decision.answers)),
        items=[ListItem(i.key, i.title, i.outcome) for i in decision.items],
    )


def _check_register_reader(participant: Participant) -> None:
    if not may_read_registers(participant):
        raise NotAllowed(REGISTER_REFUSAL)


def decisions(session: Session, participant: Participant) -> DecisionList:
    """The decision register, the newest first."""
    _check_register_reader(participant)
    found = session.scalars(
        select(DecisionRow)
        .order_by(DecisionRow.launched_at.desc(), DecisionRow.id.desc())
        .options(selectinload(DecisionRow.follows))
    )
    return DecisionList([decision_data(d) for d in found])


def decision_detail(session: Session, participant: Participant, decision_id: int) -> Decision:
    """One decision of the register; NoSuchThing when there is none."""
    _check_register_reader(participant)
    decision = session.get(DecisionRow, decision_id)
    if decision is None:
        raise NoSuchThing(f"There is no decision {decision_id}. Start from GET /decisions.")
    return decision_data(decision)


def whoami(username: str, display_name: str, participant: Participant) -> Me:
    """The token's user: user name, name shown, and the roles they hold (with scope)."""
    grants = sorted(
        participant.grants, key=lambda g: (g.role, g.organisation or "", g.pillar or "")
    )
    return Me(username, display_name, [Role(g.role, g.organisation, g.pillar) for g in grants])
