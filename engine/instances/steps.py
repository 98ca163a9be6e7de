"""What callers do with procedures: start, complete, claim, release, signal, fire timers.

Each function is one step inside a unit of work the caller owns (see unit_of_work.py):
it reads, runs the workflow, saves state and projections and writes the audit trail, and
flushes. The caller commits once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.task import TaskState
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine import audit, clock
from engine.diagrams.bpmn import role_key
from engine.diagrams.choices import ChoiceScope, checked_task_form
from engine.diagrams.forms import (
    FORM_PROPERTY,
    check_answer,
    check_notice,
    load_form,
    validate_submission,
)
from engine.errors import (
    ConcurrentUpdate,
    EngineError,
    ProcedureEnded,
    Refused,
    StepFailed,
    TaskAlreadyDone,
    TaskNotFound,
    UnknownProcess,
    refusal_within,
)
from engine.instances.assignment import Participant, check_may_act
from engine.instances.cancellation import CANCELLED, cancellation_of
from engine.instances.loading import LoadedInstance, load, new_workflow, resolve_called, specs_of
from engine.instances.saving import record_answer, save
from engine.instances.task_lookup import find_task
from engine.instances.timers import waiting_timers
from engine.instances.unit_of_work import is_conflict, run_in_transaction
from engine.services import OperationContext, operation
from models import HumanTask, ProcessDefinition, ProcessInstance, Timer

log = logging.getLogger("iisg.engine")
# A cycle timer could fall due again and again while catching up; bound the work per pass.
_MAX_CATCH_UP_STEPS = 1000
_JUST_AFTER = timedelta(microseconds=1)
# Without a minimum notice, a deadline a person types must still lie after now.
NO_NOTICE = timedelta(0)
# A withdrawal's reason is kept whole on the audit trail and mailed; a page of text is enough.
CANCEL_REASON_MAX_CHARS = 2000
# The states a procedure can be withdrawn from: under way, or stopped by a failed step.
CANCELLABLE = ("running", "error")


@contextmanager
def _running(
    session: Session, instance_id: int, actor: str, now: datetime, what: str
) -> Iterator[None]:
    """Run workflow code at `now` for `actor`, with service tasks in this unit of work.

    A person's mistake said by a service operation comes out as its Refused; any other
    failure inside the diagram is logged in full and becomes a StepFailed whose words carry
    none of it. The caller's unit of work then rolls back, so a failed step changes nothing.
    """
    context = OperationContext(session, instance_id, actor, now)
    with clock.at(now), operation(context):
        try:
            yield
        except EngineError:
            raise
        except Exception as err:
            refused = refusal_within(err)
            if refused is not None:  # a person's mistake, said by a service operation
                raise refused from err
            if any(is_conflict(cause) for cause in _chain(err)):
                raise ConcurrentUpdate(  # someone else wrote first: run_in_transaction retries
                    "the procedure was changed by someone else a moment ago; please try again"
                ) from err
            step = _step_name(err)
            log.error(
                "%s failed inside the diagram at %r (instance %s)",
                what,
                step,
                instance_id,
                exc_info=err,
            )
            raise StepFailed(
                what,
                step,
                _failure_kind(err),
                actor=actor,
                instance_id=instance_id,
                process=_process_key(err),
            ) from err


def _chain(err: BaseException) -> list[BaseException]:
    chain = [err]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(cause)
    return chain


def _step_name(err: Exception) -> str | None:
    task = getattr(err, "task", None)
    if task is None:
        return None
    spec = task.task_spec
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _process_key(err: Exception) -> str | None:
    # From the workflow, not the instance row: after a failed write the session is unusable.
    task = getattr(err, "task", None)
    return None if task is None else str(task.workflow.top_workflow.spec.name)


def _failure_kind(err: BaseException) -> str:
    """What kind of failure it was, in words safe to show: the engine's own sentence (the
    sandbox's, a service operation's), or only the name of what went wrong."""
    chain = _chain(err)
    for cause in chain:
        if isinstance(cause, EngineError):
            return str(cause)
    if any(isinstance(cause, SQLAlchemyError) for cause in chain):
        return "the database refused what the step wrote"
    # SpiffWorkflow names the error a script, an expression or an operation raised.
    error_type, line = getattr(err, "error_type", None), getattr(err, "line_number", None)
    if not (isinstance(error_type, str) and error_type.isidentifier()):
        error_type = type(chain[-1]).__name__
    said = f"it raised {error_type}"
    missing = next((c.name for c in chain if isinstance(c, NameError)), None)
    if isinstance(missing, str) and missing.isidentifier():  # the commonest bug: say which
        said += f": '{missing}' is not defined"
    return said + (f" on line {line}" if isinstance(line, int) and line > 0 else "")


def active_definition(session: Session, process_key: str) -> ProcessDefinition:
    """The version new instances of a process start on."""
    found = session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_key == process_key, ProcessDefinition.status == "active")
        .order_by(ProcessDefinition.version.desc())
    ).first()
    if found is None:
        raise UnknownProcess(f"there is no active procedure '{process_key}'; deploy it first")
    return found


def start_form(definition: ProcessDefinition) -> dict[str, Any] | None:
    """The form a person fills in to start the process (None when it takes no start data)."""
    spec, _ = specs_of(definition)
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            if props.get(FORM_PROPERTY):
                return load_form(definition.files, props[FORM_PROPERTY])
    return None


# A start event's property naming, beside the role of its lane, the roles whose holders may
# start the process themselves (role keys separated by spaces or commas).
STARTED_BY_PROPERTY = "startedBy"


def start_roles(definition: ProcessDefinition) -> frozenset[str]:
    """The roles whose holders may start the process: its start event's lane and the roles
    its `startedBy` property names."""
    spec, _ = specs_of(definition)
    roles: set[str] = set()
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            if task_spec.lane:
                roles.add(role_key(task_spec.lane))
            props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            roles.update(re.split(r"[\s,]+", props.get(STARTED_BY_PROPERTY, "").strip()))
    return frozenset(roles - {""})


def start_instance(
    session: Session,
    process_key: str,
    data: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    title: str | None = None,
    business_key: str | None = None,
    notice: timedelta = NO_NOTICE,
) -> ProcessInstance:
    """Start the active version of a process with its starting data; a deadline in it must
    lie more than `notice` after `now` (see check_notice)."""
    definition = active_definition(session, process_key)
    called = resolve_called(session, definition)
    workflow = new_workflow(definition, called, session)
    form = start_form(definition)
    if form is not None:
        cleaned = validate_submission(form, data)
        check_notice(form, cleaned, now=now, notice=notice)
        # Every field of the start form is defined, so the diagram can use optional ones.
        data = {key: cleaned.get(key) for key in form.get("properties", {})}
    row = ProcessInstance(
        definition=definition,
        definition_id=definition.id,
        process_key=process_key,
        status="running",
        business_key=business_key,
        title=title or definition.name,
        state_json="{}",
        called_definitions=called,
        started_by=actor,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()  # the instance needs its id before tasks and timers point at it
    with _running(session, row.id, actor, now, "starting the procedure"):
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        workflow.do_engine_steps()
    loaded = LoadedInstance(row, workflow)
    audit.record(
        session,
        kind="instance.started",
        actor=actor,
        now=now,
        instance_id=row.id,
        payload={"process": process_key, "version": definition.version, "data_keys": sorted(data)},
    )
    save(session, loaded, now)
    return row


def require_open_task(session: Session, task_id: int) -> HumanTask:
    """The task, if it still waits for someone; TaskNotFound or TaskAlreadyDone if not."""
    row = session.get(HumanTask, task_id, populate_existing=True)
    if row is None:
        raise TaskNotFound(f"there is no task {task_id}")
    if row.status == "withdrawn":
        cancelled = cancellation_of(session, row.instance_id)
        if cancelled is not None:
            raise TaskAlreadyDone(
                f"'{row.name}' is no longer open: {cancelled.sentence()}; nothing was changed."
            )
    ensure_open(row)
    return row


def ensure_open(row: HumanTask) -> None:
    """Raise TaskAlreadyDone, saying by whom and when, unless the task still waits."""
    if row.status == "completed":
        when = f" on {row.completed_at:%d %B %Y at %H:%M} UTC" if row.completed_at else ""
        raise TaskAlreadyDone(
            f"'{row.name}' was already completed by {row.completed_by}{when}; nothing was changed."
        )
    if row.status != "open":
        raise TaskAlreadyDone(
            f"'{row.name}' is no longer open: it was withdrawn when the procedure moved on; "
            "nothing was changed."
        )


def complete_task(
    session: Session,
    task_id: int,
    data: dict[str, Any],
    *,
    participant: Participant,
    now: datetime,
    notice: timedelta = NO_NOTICE,
) -> HumanTask:
    """Complete a human task with the submitted data, checked against its form; a deadline
    in it must lie more than `notice` after `now` (see check_notice).

    Read top to bottom: the task and its instance are read, who may act and the form are
    checked, the answer and its audit event are written, the step runs, and the state is
    saved under the instance's optimistic lock with its inbox and timer rows.
    """
    row = require_open_task(session, task_id)
    check_may_act(participant, row)
    loaded = load(session, row.instance_id)
    # A deadline that has passed wins over an answer, even before the scheduler's next pass:
    # fire what is due first; if that closed the task, the answer is refused.
    if _deadline_passed(loaded, now) and fire_due_timers(session, row.instance_id, now):
        name = row.name
        row = session.get(HumanTask, task_id, populate_existing=True) or row
        if row.status != "open":
            raise TaskAlreadyDone(
                f"'{name}' is no longer open: a deadline of the procedure has passed, and an "
                "answer after it changes nothing; nothing was changed."
            )
        loaded = load(session, row.instance_id)
    task = find_task(loaded, row.task_guid)
    if task is None or task.state != TaskState.READY:
        # Someone else's step was saved between reading the task and its instance: their
        # row says who answered, and when.
        fresh = session.get(HumanTask, task_id, populate_existing=True)
        if fresh is not None:
            ensure_open(fresh)
        raise TaskAlreadyDone(
            f"'{row.name}' is no longer waiting for an answer; nothing was changed."
        )
    # The form made for this task: a field whose values depend on it (choicesFrom) takes
    # only those, as the page and the API offered them.
    form = checked_task_form(
        loaded.definition.files,
        row.form,
        ChoiceScope(session, row.organisation, row.pillar, task.data),
    )
    cleaned = check_answer(form, data)
    check_notice(form.schema if form is not None else None, cleaned, now=now, notice=notice)
    # The answer and its audit event before the workflow moves on: a service task reading
    # the answers sees it. (A step that fails inside the diagram rolls them back.)
    record_answer(session, row, username=participant.username, now=now, answer=cleaned)
    audit.record(
        session,
        kind="task.completed",
        actor=participant.username,
        now=now,
        instance_id=row.instance_id,
        payload={"task": row.bpmn_id, "task_guid": row.task_guid, "data": cleaned},
    )
    with _running(session, row.instance_id, participant.username, now, f"completing '{row.name}'"):
        # Every field of the form is defined in the data, so the diagram can refer to
        # optional fields that were left empty.
        for key in form.fields if form is not None else ():
            task.data[key] = cleaned.get(key)
        task.run()
        loaded.workflow.do_engine_steps()
    save(session, loaded, now)
    return row


def cancel_instance(
    session: Session, instance_id: int, *, actor: str, reason: str, now: datetime
) -> list[HumanTask]:
    """Withdraw a procedure, with a reason: its open tasks are withdrawn, its waiting timers
    removed, the processes it calls (run inside it) cancelled with it, and it ends
    `cancelled`. The inbox rows it withdrew, as they were open (so the caller can tell who
    held them).

    Saved under the instance's optimistic lock, as a completion is: an answer saved first
    makes this unit of work start again (and then withdraw what is still open); a withdrawal
    saved first leaves the answer nothing open to answer.
    """
    reason = reason.strip()
    if not reason:
        raise Refused(
            "reason",
            "Give the reason for withdrawing the procedure: it goes on the record and to "
            "everyone whose task is withdrawn.",
        )
    if len(reason) > CANCEL_REASON_MAX_CHARS:
        raise Refused("reason", f"Keep the reason within {CANCEL_REASON_MAX_CHARS} characters.")
    loaded = load(session, instance_id)
    row = loaded.row
    if row.status not in CANCELLABLE:
        raise ProcedureEnded(_ended_words(session, row))
    # A deadline that has passed wins over a withdrawal, as over an answer: what is due fires
    # first (a silent procedure is adopted at its deadline); what is left is withdrawn.
    if row.status == "running" and _deadline_passed(loaded, now):
        fire_due_timers(session, instance_id, now)
        loaded = load(session, instance_id)
        row = loaded.row
        if row.status not in CANCELLABLE:
            raise ProcedureEnded(_ended_words(session, row))
    withdrawn = list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
            .order_by(HumanTask.id)
        )
    )
    timers = sorted(bpmn_id for _guid, bpmn_id, _due in loaded.saved_timers or ())
    with _running(session, instance_id, actor, now, "withdrawing the procedure"):
        loaded.workflow.cancel()  # called processes too: they run inside this workflow
    row.status, row.ended_at = "cancelled", now
    audit.record(
        session,
        kind=CANCELLED,
        actor=actor,
        now=now,
        instance_id=instance_id,
        payload={
            "reason": reason,
            "tasks": [task.bpmn_id for task in withdrawn],
            "timers": timers,
        },
    )
    # No step is ready or waiting any more: the save withdraws the open inbox rows and, the
    # instance no longer running, deletes its timer rows.
    save(session, loaded, now)
    for task in withdrawn:
        session.refresh(task)
    return withdrawn


def _ended_words(session: Session, row: ProcessInstance) -> str:
    """Why nothing more can be done in an ended procedure, in a sentence."""
    cancelled = cancellation_of(session, row.id) if row.status == "cancelled" else None
    if cancelled is not None:
        return f"'{row.title}' has already ended: {cancelled.sentence()}; nothing was changed."
    ended = f" on {row.ended_at:%d %B %Y at %H:%M} UTC" if row.ended_at else ""
    return (
        f"'{row.title}' has already ended: it was {row.status}{ended}; it can no longer be "
        "withdrawn, and nothing was changed."
    )


def _deadline_passed(loaded: LoadedInstance, now: datetime) -> bool:
    """Whether a timer of the loaded state is due at `now`."""
    return any(when <= now for _guid, _bpmn_id, when in loaded.saved_timers or ())


def complete_task_or_log_refusal(
    factory: sessionmaker[Session],
    task_id: int,
    data: dict[str, Any],
    *,
    participant: Participant,
    now: datetime,
    notice: timedelta = NO_NOTICE,
) -> HumanTask:
    """Complete a task in its own unit of work; a late or repeated answer is refused and,
    in a unit of work of its own, kept on the audit trail."""
    try:
        return run_in_transaction(
            factory,
            lambda s: complete_task(
                s, task_id, data, participant=participant, now=now, notice=notice
            ),
        )
    except TaskAlreadyDone as refused:
        reason = str(refused)
        run_in_transaction(
            factory,
            lambda s: record_refused_attempt(
                s, task_id, data, participant=participant, now=now, reason=reason
            ),
        )
        raise


def send_signal(
    session: Session,
    instance_id: int,
    name: str,
    payload: Any = None,
    *,
    actor: str,
    now: datetime,
) -> ProcessInstance:
    """Deliver a signal to an instance that waits for it."""
    loaded = load(session, instance_id)
    try:
        with clock.at(now):
            loaded.workflow.send_event(BpmnEvent(SignalEventDefinition(name), payload))
    except WorkflowException as err:
        raise EngineError(f"the procedure is not waiting for '{name}'") from err
    with _running(session, instance_id, actor, now, f"the signal '{name}'"):
        loaded.workflow.do_engine_steps()
    audit.record(
        session,
        kind="signal.sent",
        actor=actor,
        now=now,
        instance_id=instance_id,
        payload={"signal": name},
    )
    save(session, loaded, now)
    return loaded.row


def fire_due_timers(session: Session, instance_id: int, now: datetime) -> list[str]:
    """Fire every timer of one instance that is due at `now`; the BPMN ids that fired.

    Timers that fell due while no scheduler ran fire in due order, each at its own due time,
    so the procedure goes on as if they had fired on time (a timer that starts after one of
    them counts from that due time, not from the moment of catching up).
    """
    claimed = session.scalars(
        select(Timer)
        .where(Timer.instance_id == instance_id, Timer.due_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    if not claimed:
        return []  # fired already by another pass, or claimed by another scheduler right now
    loaded = load(session, instance_id)
    if loaded.row.status != "running":
        return []
    fired: list[str] = []
    for _ in range(_MAX_CATCH_UP_STEPS):
        due = [(when, task) for task, when in waiting_timers(loaded.workflow) if when <= now]
        if not due:
            break
        # SpiffWorkflow fires a timer only once its due time is strictly in the past.
        moment = min(when for when, _task in due) + _JUST_AFTER
        with _running(session, instance_id, "scheduler", moment, "firing a timer"):
            loaded.workflow.refresh_timers()
            loaded.workflow.do_engine_steps()
        still_waiting = {task.id for task, _when in waiting_timers(loaded.workflow)}
        for when, task in sorted(due, key=lambda pair: pair[0]):
            if task.id in still_waiting:
                continue
            bpmn_id = task.task_spec.bpmn_id or task.task_spec.name
            fired.append(bpmn_id)
            audit.record(
                session,
                kind="timer.fired",
                actor="scheduler",
                now=now,
                instance_id=instance_id,
                payload={"timer": bpmn_id, "due_at": when.isoformat()},
            )
    save(session, loaded, now)
    return fired


def earliest_due_timer(session: Session) -> datetime | None:
    """When the next timer of a running instance falls due. (A stopped instance keeps its
    timer rows, which no pass fires: they must not plan passes.)"""
    return session.scalars(
        select(Timer.due_at).where(_running_instance()).order_by(Timer.due_at).limit(1)
    ).first()


def _running_instance() -> ColumnElement[bool]:
    """The timer's instance is running. (Looked up by its key from the timer: as a join,
    SQLite would go through every running instance, however few timers are due.)"""
    return exists().where(
        ProcessInstance.id == Timer.instance_id, ProcessInstance.status == "running"
    )


def due_instances(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Instances with a timer due at `now`, the longest overdue first."""
    # Read from the due-time index, each instance's status looked up by its key.
    rows = session.execute(
        select(Timer.instance_id, Timer.due_at)
        .where(Timer.due_at <= now, _running_instance())
        .order_by(Timer.due_at)
        .limit(limit * 4)
    ).all()
    seen: list[int] = []
    for instance_id, _due in rows:
        if instance_id not in seen:
            seen.append(instance_id)
    return seen[:limit]


def record_refused_attempt(
    session: Session,
    task_id: int,
    data: dict[str, Any],
    *,
    participant: Participant,
    now: datetime,
    reason: str,
) -> None:
    """Log an answer that came too late (or twice): it changes nothing, but it is on record."""
    row = session.get(HumanTask, task_id)
    if row is None:
        return
    audit.record(
        session,
        kind="task.refused",
        actor=participant.username,
        now=now,
        instance_id=row.instance_id,
        payload={
            "task": row.bpmn_id,
            "task_guid": row.task_guid,
            "task_status": row.status,
            "reason": reason,
            "data": data,
        },
    )
