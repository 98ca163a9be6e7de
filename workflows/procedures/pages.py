"""What the procedure pages read and do: the catalogue and who may start what, starting a
procedure, one instance (where it stands, what happened, who holds its open tasks, its data)
and the Secretariat's overview of every running procedure."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.numbers import fill_form_numbers
from engine.errors import UnknownProcess
from engine.instances.assignment import Participant, describe_holder
from engine.instances.cancellation import Cancellation, cancellation_of
from engine.instances.diagram_state import DiagramState, step_names, workflow_state
from engine.instances.loading import load, starting_numbers
from engine.instances.steps import active_definition, start_form, start_instance, start_roles
from engine.instances.task_lookup import current_data
from models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from workflows.methodology.diagrams import active_processes
from workflows.people.accounts import name_with_roles
from workflows.people.roles import ROLES, SECRETARIAT, partner_name
from workflows.procedures.access import may_read_task
from workflows.procedures.contributions import Contribution, contributions

MEMBERSHIP = "membership"
AMENDMENT = "methodology_amendment"
# Fields of the start form an applicant does not fill in: the system knows who they are,
# and an application the applicant starts is one where the partner reached out.
APPLICANT_FILLED = ("applicant_username", "how_it_began")
# Start-form fields that name an instance, in order of preference.
TITLE_FIELDS = ("subject", "organisation_name", "mapping_year", "report_year", "process_key")
VALUE_SHOWN = 300
DATA_FIELDS_SHOWN = 200
STATUS_WORDS = {
    "running": "running",
    "completed": "completed",
    "cancelled": "cancelled",
    "error": "stopped with an error",
}


@dataclass(frozen=True)
class Procedure:
    """One procedure in the catalogue, and whether this person may start it."""

    key: str
    name: str
    version: int
    description: str
    may_start: bool


def _may_start_version(participant: Participant, definition: ProcessDefinition) -> bool:
    if participant.holds(SECRETARIAT):
        return True
    return any(participant.holds(role) for role in start_roles(definition))


def may_start(session: Session, participant: Participant, process_key: str) -> bool:
    """The Secretariat starts any procedure; others start those whose diagram's start event
    names their role (its lane, or its `startedBy` property): an applicant their membership
    application, a focal point or a Board member a proposal to amend a methodology."""
    if participant.holds(SECRETARIAT):
        return True
    try:
        definition = active_definition(session, process_key)
    except UnknownProcess:
        return False
    return _may_start_version(participant, definition)


def catalogue(session: Session, participant: Participant) -> list[Procedure]:
    """Every procedure new instances can start on, with its description."""
    return [
        Procedure(
            d.process_key,
            d.name,
            d.version,
            d.description,
            _may_start_version(participant, d),
        )
        for d in active_processes(session)
    ]


def first_steps(session: Session, participant: Participant) -> list[Procedure]:
    """The procedures this person may start: an empty inbox offers them as a first step."""
    return [p for p in catalogue(session, participant) if p.may_start]


def _fills_for(session: Session, participant: Participant, process_key: str) -> dict[str, Any]:
    """Start-form fields the system fills in, as it knows who is starting."""
    if process_key == MEMBERSHIP and not participant.holds(SECRETARIAT):
        # An application the applicant starts is one where the partner reached out.
        return {"applicant_username": participant.username, "how_it_began": "approach"}
    if process_key == AMENDMENT:
        # "The proposals for amending the Methodology can come from any IISG partner":
        # the proposer is whoever starts it.
        return {"proposed_by": name_with_roles(session, participant)}
    return {}


@dataclass(frozen=True)
class StartPage:
    """A procedure's start form as this person fills it in (None: it takes no start data)."""

    procedure: Procedure
    schema: dict[str, Any] | None


def start_page(session: Session, participant: Participant, process_key: str) -> StartPage:
    """The start form of a procedure's active version; UnknownProcess when there is none."""
    definition = active_definition(session, process_key)
    schema = start_form(definition)
    if schema is not None:
        schema = fill_form_numbers(schema, starting_numbers(session, definition))
    filled = _fills_for(session, participant, process_key)
    if schema is not None and filled:
        schema = dict(schema)
        schema["properties"] = {
            k: v for k, v in schema.get("properties", {}).items() if k not in filled
        }
        schema["required"] = [k for k in schema.get("required", []) if k not in filled]
    procedure = Procedure(
        definition.process_key, definition.name, definition.version, definition.description, True
    )
    return StartPage(procedure, schema)


def instance_title(name: str, data: dict[str, Any]) -> str:
    """A title that tells this instance from the others: the procedure and what it is about."""
    about = next((str(data[k]).strip() for k in TITLE_FIELDS if data.get(k)), "")
    title = f"{name}: {about}" if about else name
    return title if len(title) <= 255 else title[:254] + "…"


def start_procedure(
    session: Session,
    participant: Participant,
    process_key: str,
    data: dict[str, Any],
    now: datetime,
    *,
    notice: timedelta,
) -> ProcessInstance:
    """Start the active version of a procedure with what the person filled in; a deadline
    in it must lie more than the minimum `notice` ahead."""
    definition = active_definition(session, process_key)
    data = {**data, **_fills_for(session, participant, process_key)}
    return start_instance(
        session,
        process_key,
        data,
        actor=participant.username,
        now=now,
        title=instance_title(definition.name, data),
        notice=notice,
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to the instance, in words."""

    at: datetime
    words: str


@dataclass(frozen=True)
class OpenTask:
    """An open task of the instance, who it is for, and whether the reader may open its page."""

    task: HumanTask
    holder: str
    readable: bool = False


@dataclass(frozen=True)
class DataField:
    """One value of the data gathered, labelled, in words (or a moment, shown as one)."""

    label: str
    text: str
    moment: datetime | None = None


@dataclass(frozen=True)
class InstancePage:
    """Everything the instance page shows; `data` is None for those who may not see it."""

    instance: ProcessInstance
    definition: ProcessDefinition
    status: str
    state: DiagramState
    timeline: list[TimelineEntry]
    open_tasks: list[OpenTask]
    data: list[DataField] | None
    # Whether this person is offered the withdrawal, and how a withdrawn one was withdrawn.
    may_withdraw: bool
    withdrawal: Cancellation | None
    # In a mapping, which Support Group member organisations have contributed (the
    # Secretariat's view; empty for everyone else and in other procedures).
    contributions: list[Contribution] = dataclass_field(default_factory=list)


def holder_of(task: HumanTask) -> str:
    """Who a task is for, naming a partner as the IISG does (Kosovo* with its asterisk)."""
    if task.assignee or task.role not in ROLES:
        return describe_holder(task)
    organisation = partner_name(task.organisation)
    scope = ", ".join(s for s in (organisation, task.pillar) if s)
    role = ROLES[task.role].lane
    return f"{role} ({scope})" if scope else role


def _who(actor: str) -> str:
    return "the scheduler" if actor == "scheduler" else actor


def _event_words(event: AuditEvent, names: dict[str, str]) -> str:
    """An audit event in a sentence: who did what."""
    payload, who = event.payload or {}, _who(event.actor)

    def step(key: str) -> str:
        bpmn_id = str(payload.get(key) or "")
        return f"'{names.get(bpmn_id, bpmn_id)}'"

    sentences = {
        "instance.started": lambda: f"{who} started the procedure",
        "task.completed": lambda: f"{who} completed {step('task')}",
        "task.claimed": lambda: f"{who} claimed {step('task')}",
        "task.released": lambda: f"{who} released {step('task')}",
        "task.refused": lambda: (
            f"{who} answered {step('task')} after it had closed; nothing was changed"
        ),
        "timer.fired": lambda: f"{who} fired {step('timer')}",
        "signal.sent": lambda: f"{who} sent the signal '{payload.get('signal', '')}'",
        "board.notified": lambda: f"{who} notified the Board: {payload.get('subject', '')}",
        "instance.cancelled": lambda: f"{who} withdrew the procedure: {payload.get('reason', '')}",
        "document.uploaded": lambda: f"{who} uploaded '{payload.get('filename', '')}'",
        "document.attached": lambda: (
            f"{who} attached '{payload.get('filename', '')}' (uploaded before the start)"
        ),
        "instance.failed": lambda: (
            f"the procedure stopped with an error: {payload.get('reason', '')}"
        ),
    }
    sentence = sentences.get(event.kind)
    return sentence() if sentence else f"{who}: {event.kind.replace('.', ' ')}"


def timeline(session: Session, instance_id: int, names: dict[str, str]) -> list[TimelineEntry]:
    """What happened to the instance, oldest first, from the audit trail."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
    )
    return [TimelineEntry(e.occurred_at, _event_words(e, names)) for e in events]


def open_tasks_of(
    session: Session, instance_id: int, reader: Participant | None = None
) -> list[OpenTask]:
    """The instance's open tasks, soonest due first, with who holds them and whether `reader`
    may open each one's page."""
    tasks = session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)
    )
    return [
        OpenTask(t, holder_of(t), reader is not None and may_read_task(reader, t)) for t in tasks
    ]


def value_text(value: Any) -> str:
    """A data value as text, cut short when it is long."""
    if value is None or value in ("", [], {}):
        text = "(empty)"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def _label(key: str, titles: dict[str, str]) -> str:
    return titles.get(key) or key.replace("_", " ").strip().capitalize()


def _moment(value: str) -> datetime | None:
    """A date and time with its offset (as the engine stores them), else None."""
    if len(value) < 19 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _fields(label: str, value: Any, words: dict[str, str]) -> list[DataField]:
    """A value as labelled fields: a record field by field, a list of records one by one, a
    list of plain values in one line; a code of the start form by its words."""
    if isinstance(value, dict) and value:
        return [
            field
            for key, inner in value.items()
            for field in _fields(f"{label}: {_label(str(key), {})}", inner, words)
        ]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [
            field
            for number, inner in enumerate(value, start=1)
            for field in _fields(f"{label} {number}", inner, words)
        ]
    if isinstance(value, list) and value:
        text = ", ".join(value_text(words.get(str(v), v)) for v in value)
        return [DataField(label, value_text(text))]
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return [DataField(label, value, moment)]
        return [DataField(label, value_text(words.get(value, value)))]
    return [DataField(label, value_text(value))]


def data_in_words(data: dict[str, Any], schema: dict[str, Any] | None) -> list[DataField]:
    """The data gathered as labelled fields: the start form's titles and its choices' words
    where it has them, every nested record spelled out, at most DATA_FIELDS_SHOWN of them."""
    properties = (schema or {}).get("properties", {})
    titles = {k: str(p["title"]) for k, p in properties.items() if p.get("title")}
    words: dict[str, str] = {}
    for spec in properties.values():
        for code, name in zip(spec.get("enum") or [], spec.get("enumNames") or [], strict=False):
            words.setdefault(str(code), str(name))
    fields = [
        field for key, value in data.items() for field in _fields(_label(key, titles), value, words)
    ]
    if len(fields) > DATA_FIELDS_SHOWN:
        left = len(fields) - DATA_FIELDS_SHOWN
        fields = [*fields[:DATA_FIELDS_SHOWN], DataField("…", f"{left} more values not shown")]
    return fields


def instance_page(
    session: Session, participant: Participant, instance: ProcessInstance, *, may_withdraw: bool
) -> InstancePage:
    """The instance page; the data gathered is shown to the Secretariat only; the withdrawal
    is offered when `may_withdraw`."""
    workflow = load(session, instance.id).workflow
    data = None
    asked: list[Contribution] = []
    if participant.holds(SECRETARIAT):
        data = data_in_words(current_data(workflow), start_form(instance.definition))
        asked = contributions(session, instance.id)
    return InstancePage(
        instance=instance,
        definition=instance.definition,
        status=STATUS_WORDS.get(instance.status, instance.status),
        state=workflow_state(workflow),
        timeline=timeline(session, instance.id, step_names(workflow)),
        open_tasks=open_tasks_of(session, instance.id, participant),
        data=data,
        may_withdraw=may_withdraw,
        withdrawal=cancellation_of(session, instance.id)
        if instance.status == "cancelled"
        else None,
        contributions=asked,
    )


@dataclass(frozen=True)
class LateTask:
    """An open task past its due time, and who holds it."""

    name: str
    holder: str
    due_at: datetime


@dataclass(frozen=True)
class OverviewRow:
    """A running procedure: its phase (the names of its open tasks) and what is late."""

    instance: ProcessInstance
    status: str
    phase: list[str]
    late: list[LateTask]


def running_overview(session: Session, now: datetime, newest_first: bool) -> list[OverviewRow]:
    """Every running procedure (and any stopped with an error), by started date."""
    order = ProcessInstance.started_at.desc() if newest_first else ProcessInstance.started_at
    instances = list(
        session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.status.in_(("running", "error")))
            .order_by(order, ProcessInstance.id)
        )
    )
    tasks: dict[int, list[HumanTask]] = defaultdict(list)
    for task in session.scalars(
        select(HumanTask)
        .where(
            HumanTask.status == "open",
            HumanTask.instance_id.in_([i.id for i in instances]),
        )
        .order_by(HumanTask.id)
    ):
        tasks[task.instance_id].append(task)
    rows = []
    for instance in instances:
        own = tasks[instance.id]
        late = [
            LateTask(t.name, holder_of(t), t.due_at)
            for t in sorted(own, key=lambda t: (t.due_at or now, t.id))
            if t.due_at is not None and t.due_at < now
        ]
        rows.append(
            OverviewRow(
                instance,
                STATUS_WORDS.get(instance.status, instance.status),
                list(dict.fromkeys(t.name for t in own)),
                late,
            )
        )
    return rows
