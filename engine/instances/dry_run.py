"""A dry run of a diagram: run it from start to end with made-up answers, and keep nothing.

Each person's step is answered with the smallest answer its form accepts
(`forms.example_answer`); a waiting timer fires by moving the engine's clock to its due time;
service tasks run for real, against the database, inside a savepoint that is always rolled
back, so nothing the run writes (decisions, mail, audit events, the instance itself) stays.
Steps the run cannot take are reported: a failure in the diagram's own code (a script, a
condition, a step's properties) is an error; an operation refusing the made-up data, a wait
for a signal or message, a run that does not end within the step bound, and any failure of a
procedure that has no start form (its starting data is unknown) are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.diagrams.bpmn import OPTIONAL_PROPERTY
from engine.diagrams.forms import FORM_PROPERTY, example_answer, load_form
from engine.diagrams.specs import specs_to_json
from engine.errors import FormInvalid
from engine.instances.loading import LoadedInstance
from engine.instances.saving import save
from engine.instances.script_engine import script_engine
from engine.instances.task_lookup import ready_human_tasks
from engine.instances.timers import waiting_timers
from engine.services import OperationContext, operation
from models import HumanTask, ProcessDefinition, ProcessInstance

MAX_STEPS = 500
DRY_RUN_ACTOR = "dry run"
_JUST_AFTER = timedelta(microseconds=1)
_MAX_LISTED = 2000


@dataclass(frozen=True)
class DryRunFinding:
    """Where the dry run got stuck or failed, and why."""

    element_id: str | None
    message: str
    severity: str  # "error" or "warning"


@dataclass
class DryRunReport:
    """The steps the dry run went through, in order, and what stopped it."""

    steps: list[str] = field(default_factory=list)
    findings: list[DryRunFinding] = field(default_factory=list)
    finished: bool = False


@dataclass
class _Run:
    session: Session
    loaded: LoadedInstance
    files: Mapping[str, str]
    moment: datetime
    report: DryRunReport
    done: set[Any] = field(default_factory=set)
    # Without a start form the run cannot know the data the procedure is started with.
    has_start_form: bool = True

    @property
    def workflow(self) -> BpmnWorkflow:
        return self.loaded.workflow

    @contextmanager
    def step(self) -> Iterator[None]:
        context = OperationContext(self.session, self.loaded.row.id, DRY_RUN_ACTOR, self.moment)
        with clock.at(self.moment), operation(context):
            yield

    def note_completed(self) -> None:
        """Add the steps completed since the last call, in the order they completed."""
        new = [
            task
            for task in self.workflow.get_tasks(state=TaskState.COMPLETED)
            if task.id not in self.done
        ]
        for task in sorted(new, key=lambda t: t.last_state_change):  # stable: tree order on ties
            self.done.add(task.id)
            spec = task.task_spec
            if getattr(spec, "bpmn_id", None) and len(self.report.steps) < _MAX_LISTED:
                self.report.steps.append(spec.bpmn_name or spec.bpmn_id)


def dry_run(
    session: Session,
    process_key: str,
    specs: tuple[Any, dict[str, Any]],
    files: Mapping[str, str],
    *,
    now: datetime,
    max_steps: int = MAX_STEPS,
) -> DryRunReport:
    """Run a process spec (and the specs it calls) with made-up answers; nothing is kept."""
    report = DryRunReport()
    savepoint = session.begin_nested()
    try:
        run = _Run(
            session, _scratch_instance(session, process_key, specs, files, now), files, now, report
        )
        _run(run, max_steps)
    finally:
        savepoint.rollback()
    return report


def _scratch_instance(
    session: Session,
    process_key: str,
    specs: tuple[Any, dict[str, Any]],
    files: Mapping[str, str],
    now: datetime,
) -> LoadedInstance:
    """An instance (and a version for it) that exists only inside the savepoint."""
    spec, subprocess_specs = specs
    definition = ProcessDefinition(
        process_key=process_key,
        version=-1,
        name=spec.description or process_key,
        description="",
        status="draft",
        content_hash="dry-run",
        source_name="dry-run.bpmn",
        bpmn_xml="",
        files=dict(files),
        spec_json=specs_to_json(spec, subprocess_specs),
        created_at=now,
        created_by=DRY_RUN_ACTOR,
    )
    row = ProcessInstance(
        definition=definition,
        process_key=process_key,
        status="running",
        title="Dry run",
        state_json="{}",
        called_definitions={},
        started_by=DRY_RUN_ACTOR,
        started_at=now,
        updated_at=now,
    )
    session.add_all([definition, row])
    session.flush()
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())
    return LoadedInstance(row, workflow)


def _run(run: _Run, max_steps: int) -> None:
    start = run.workflow.get_next_task(state=TaskState.READY)
    run.has_start_form = _start_form(run) is not None
    if not _attempt(run, lambda: _start(run, start)):
        return
    for _ in range(max_steps):
        if run.workflow.is_completed():
            run.report.finished = True
            return
        task = _next_human_task(run)
        if task is not None:
            if not _attempt(run, partial(_answer, run, task), task):
                return
            continue
        due = sorted(waiting_timers(run.workflow), key=lambda pair: pair[1])
        if due:
            timer, when = due[0]
            run.moment = max(run.moment, when + _JUST_AFTER)
            if not _attempt(run, lambda: _fire_timers(run), timer):
                return
            continue
        _stuck(run)
        return
    run.report.findings.append(
        DryRunFinding(
            None,
            f"the dry run did not reach an end within {max_steps} steps; check for a loop "
            "that made-up answers never leave",
            "warning",
        )
    )


def _start(run: _Run, start: Task | None) -> None:
    if start is not None:
        data = _answer_for(run, _start_form(run))
        start.data.update(data)
    with run.step():
        run.workflow.do_engine_steps()
    save(run.session, run.loaded, run.moment)


def _start_form(run: _Run) -> str | None:
    for task_spec in run.workflow.spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            if props.get(FORM_PROPERTY):
                return str(props[FORM_PROPERTY])
    return None


def _properties(task: Task) -> dict[str, str]:
    return dict((getattr(task.task_spec, "extensions", None) or {}).get("properties", {}))


def _next_human_task(run: _Run) -> Task | None:
    """The next step to answer; an optional one only when nothing else can move on."""
    ready = ready_human_tasks(run.workflow)
    required = [t for t in ready if _properties(t).get(OPTIONAL_PROPERTY) != "true"]
    if required:
        return required[0]
    if ready and not waiting_timers(run.workflow):
        return ready[0]
    return None


def _answer_for(run: _Run, form: str | None) -> dict[str, Any]:
    schema = load_form(dict(run.files), form) if form and form in run.files else None
    answer = example_answer(schema, run.moment)
    # As in a real answer, every field of the form is defined in the data.
    return {key: answer.get(key) for key in (schema or {}).get("properties", {})}


def _answer(run: _Run, task: Task) -> None:
    data = _answer_for(run, _properties(task).get(FORM_PROPERTY))
    row = run.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == run.loaded.row.id, HumanTask.task_guid == str(task.id)
        )
    ).first()
    if row is not None:
        row.status = "completed"
        row.completed_by = DRY_RUN_ACTOR
        row.completed_at = run.moment
        row.submitted = data
        run.session.flush()
    with run.step():
        for key, value in data.items():
            task.data[key] = value
        task.run()
        run.workflow.do_engine_steps()
    save(run.session, run.loaded, run.moment)


def _fire_timers(run: _Run) -> None:
    with run.step():
        run.workflow.refresh_timers()
        run.workflow.do_engine_steps()
    save(run.session, run.loaded, run.moment)


def _attempt(run: _Run, action: Callable[[], None], task: Task | None = None) -> bool:
    """Take one step of the run; on failure record why and say so (False)."""
    try:
        action()
    except FormInvalid as err:
        run.report.findings.append(
            DryRunFinding(
                _bpmn_id(task),
                f"no answer could be made up that the form of {_name(task)} accepts "
                f"({err}); the dry run stopped there",
                "warning",
            )
        )
        return False
    except Exception as err:  # anything the diagram or an operation raised
        failed = getattr(err, "task", None) or task
        at_service = bool(getattr(getattr(failed, "task_spec", None), "operation_name", None))
        reason = str(err).split("\n")[0] or err.__class__.__name__
        if at_service:
            message = (
                f"the operation of {_name(failed)} refused the made-up answers ({reason}); "
                "with real answers it may well pass, but the dry run could not go further"
            )
        else:
            message = f"{_name(failed)} failed: {reason}"
        if not at_service and not run.has_start_form:
            message += (
                " (the procedure has no start form, so the dry run started it without the "
                "data it may be started with)"
            )
        crashed = not at_service and run.has_start_form
        run.report.findings.append(
            DryRunFinding(_bpmn_id(failed), message, "error" if crashed else "warning")
        )
        return False
    finally:
        run.note_completed()
    return True


def _stuck(run: _Run) -> None:
    waiting = [
        t
        for t in run.workflow.get_tasks(state=TaskState.WAITING | TaskState.READY)
        if getattr(t.task_spec, "bpmn_id", None)
    ]
    names = ", ".join(_name(t) for t in waiting) or "no step"
    run.report.findings.append(
        DryRunFinding(
            _bpmn_id(waiting[0]) if waiting else None,
            f"the dry run stopped: the procedure waits at {names} for something it cannot "
            "make up (a signal, a message, another procedure)",
            "warning",
        )
    )


def _bpmn_id(task: Task | None) -> str | None:
    if task is None:
        return None
    return getattr(task.task_spec, "bpmn_id", None) or None


def _name(task: Task | None) -> str:
    if task is None:
        return "the start"
    spec = task.task_spec
    return f"'{getattr(spec, 'bpmn_name', None) or getattr(spec, 'bpmn_id', None) or spec.name}'"
