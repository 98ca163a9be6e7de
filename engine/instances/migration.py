"""Moving a running instance to a newer version of its diagram, only where that is safe.

SpiffWorkflow's diff (`SpiffWorkflow.bpmn.util.diff`) lines up the instance's steps with the
new version's by BPMN id. The move is safe only when nothing the procedure has already done,
or is doing, changes: no step that is done or under way is changed or removed, no step where
it waits now is removed, and no subprocess or called procedure that has started changes at
all (conservatively, even in steps it has not reached). The instance then goes on from where
it stands on the new version; steps it waits at keep their data and their deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.diagrams.deploy import find_version
from engine.diagrams.specs import workflow_from_json, workflow_to_json
from engine.errors import EngineError
from engine.instances.loading import LoadedInstance, instance_specs, load, resolve_called
from engine.instances.saving import save
from engine.instances.task_descriptions import describe_task
from engine.services import OperationContext, operation
from models import HumanTask, ProcessDefinition, ProcessInstance

_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_DONE_OR_UNDER_WAY = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
_STANDING = TaskState.READY | TaskState.WAITING
# What SpiffWorkflow's diff names, in the Secretariat's words.
_ATTRIBUTE_WORDS = {
    "outputs": "what follows it",
    "inputs": "what leads to it",
    "bpmn_name": "its name",
    "documentation": "its documentation",
    "extensions": "its form or properties",
    "lane": "its lane",
    "script": "its script",
    "cond_task_specs": "its conditions",
    "default_task_spec": "its default flow",
    "typename": "its kind of step",
    "event_definition": "its event",
    "operation_params": "its parameters",
    "operation_name": "its operation",
    "spec": "the procedure it calls",
}


class MigrationRefused(EngineError):
    """Moving the instance to the new version would change what it has already done."""


@dataclass(frozen=True)
class MigrationCheck:
    """Whether an instance can move to a version, why not, and which of its steps change."""

    safe: bool
    reasons: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    loaded: LoadedInstance
    target: ProcessDefinition
    called: dict[str, int]
    specs: tuple[Any, dict[str, Any]]
    check: MigrationCheck
    changed_specs: set[str]


def migration_check(session: Session, instance_id: int, version: int) -> MigrationCheck:
    """Whether the instance can move to `version` of its procedure; nothing is changed."""
    return _plan(session, instance_id, version).check


def migrate_instance(
    session: Session, instance_id: int, version: int, *, actor: str, now: datetime
) -> ProcessInstance:
    """Move a running instance to `version`; MigrationRefused, changing nothing, unless safe."""
    plan = _plan(session, instance_id, version)
    if not plan.check.safe:
        raise MigrationRefused(
            f"instance {instance_id} cannot move to version {version}: "
            + "; ".join(plan.check.reasons)
        )
    loaded, row = plan.loaded, plan.loaded.row
    before = row.definition.version
    _move(loaded.workflow, plan)
    with clock.at(now), operation(OperationContext(session, row.id, actor, now)):
        loaded.workflow.do_engine_steps()
    row.definition = plan.target
    row.definition_id = plan.target.id
    row.called_definitions = plan.called
    _describe_changed_tasks_again(session, loaded, plan.changed_specs, now)
    save(session, loaded, now)
    audit.record(
        session,
        kind="instance.migrated",
        actor=actor,
        now=now,
        instance_id=row.id,
        payload={
            "process": row.process_key,
            "from_version": before,
            "to_version": plan.target.version,
            "changed": plan.check.changed,
        },
    )
    return row


def _plan(session: Session, instance_id: int, version: int) -> _Plan:
    loaded = load(session, instance_id)
    row = loaded.row
    target = find_version(session, row.process_key, version)
    kept = dict(row.called_definitions or {})
    # Called procedures keep the versions the instance started with; newly called ones
    # take the version in force.
    called = {key: kept.get(key, value) for key, value in resolve_called(session, target).items()}
    specs = instance_specs(session, target, called)
    refusal = _refusal(row, target)
    if refusal:
        check = MigrationCheck(False, [refusal])
        return _Plan(loaded, target, called, specs, check, set())
    return _compare(loaded, target, called, specs)


def _refusal(row: ProcessInstance, target: ProcessDefinition) -> str | None:
    if row.status != "running":
        return f"the procedure is {row.status}; only a running procedure can move"
    if target.id == row.definition_id:
        return f"it already runs on version {target.version}"
    if target.status != "active":
        return (
            f"version {target.version} is {target.status}; a procedure can only move to the "
            "version in force, adopted by the Board"
        )
    return None


def _name(task: Task) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _words(attributes: list[str]) -> str:
    return ", ".join(dict.fromkeys(_ATTRIBUTE_WORDS.get(a, a) for a in attributes))


def _compare(
    loaded: LoadedInstance,
    target: ProcessDefinition,
    called: dict[str, int],
    specs: tuple[Any, dict[str, Any]],
) -> _Plan:
    workflow = loaded.workflow
    new_spec, new_dependencies = specs
    top, _ = diff_workflow(_REGISTRY, workflow, new_spec, new_dependencies)
    spec_changes = SpecDiff(_REGISTRY, workflow.spec, new_spec).changed
    reasons: list[str] = []
    changed = sorted({_name(task) for task in top.changed if task.task_spec.bpmn_id})
    removed = sorted({_name(task) for task in top.removed if task.task_spec.bpmn_id})
    for task in top.changed:
        if task.state & _DONE_OR_UNDER_WAY and task.task_spec.bpmn_id:
            what = _words(spec_changes.get(task.task_spec, []))
            reasons.append(
                f"the step '{_name(task)}' is already done or under way, and version "
                f"{target.version} changes {what}"
            )
    for task in top.removed:
        if task.state & (_DONE_OR_UNDER_WAY | _STANDING | TaskState.CANCELLED):
            reasons.append(
                f"version {target.version} no longer has the step '{_name(task)}', which "
                "this procedure has already reached"
            )
    for sp_id, subprocess in workflow.subprocesses.items():
        name = _name(workflow.get_task_from_id(sp_id))
        new = new_dependencies.get(subprocess.spec.name)
        if new is None:
            reasons.append(
                f"'{name}' has started, and version {target.version} no longer has what it runs"
            )
            continue
        inner = SpecDiff(_REGISTRY, subprocess.spec, new)
        if inner.added or inner.removed or inner.changed:
            reasons.append(
                f"'{name}' has started, and version {target.version} changes the steps inside it"
            )
    plan = _Plan(
        loaded,
        target,
        called,
        specs,
        MigrationCheck(not reasons, list(dict.fromkeys(reasons)), changed, removed),
        {str(spec.bpmn_id) for spec in spec_changes if spec.bpmn_id},
    )
    if plan.check.safe:
        trial_failure = _trial(loaded, plan)
        if trial_failure:
            plan.check = MigrationCheck(False, [trial_failure], changed, removed)
    return plan


def _trial(loaded: LoadedInstance, plan: _Plan) -> str | None:
    """Move a copy of the workflow and store and restore it: does the new version fit?"""
    old_specs = (loaded.workflow.spec, loaded.workflow.subprocess_specs)
    copy = workflow_from_json(workflow_to_json(loaded.workflow), old_specs)
    try:
        _move(copy, plan)
        new_spec = plan.specs[0]
        strays = [
            _name(task)
            for task in copy.get_tasks(skip_subprocesses=True)
            if task.task_spec is not new_spec.task_specs.get(task.task_spec.name)
        ]
        if strays:
            return (
                "the new version does not fit where the procedure stands: "
                + ", ".join(sorted(set(strays)))
                + " would be left without a step"
            )
        workflow_from_json(workflow_to_json(copy), plan.specs)
    except Exception as err:  # SpiffWorkflow raises many kinds; any means "does not fit"
        return f"the new version does not fit where the procedure stands: {err}"
    return None


def _move(workflow: BpmnWorkflow, plan: _Plan) -> None:
    """Put the workflow on the new specs; steps it waits at keep their data and deadlines."""
    new_spec, new_dependencies = plan.specs
    top, _ = diff_workflow(_REGISTRY, workflow, new_spec, new_dependencies)
    standing = {
        task.id: (dict(task.data), task.internal_data.get("event_value"))
        for task in workflow.get_tasks(state=_STANDING, skip_subprocesses=True)
    }
    migrate_workflow(top, workflow, new_spec)
    workflow.subprocess_specs = new_dependencies
    for subprocess in workflow.subprocesses.values():
        subprocess.spec = new_dependencies.get(subprocess.spec.name, subprocess.spec)
    for task_id, (data, due) in standing.items():
        task = workflow.tasks.get(task_id)
        if task is None:
            continue
        task.data = data
        # A deadline already running keeps its due time, unless the new version changes it.
        if due is not None and task.task_spec.bpmn_id not in plan.changed_specs:
            task.internal_data["event_value"] = due


def _describe_changed_tasks_again(
    session: Session, loaded: LoadedInstance, changed_specs: set[str], now: datetime
) -> None:
    """Open inbox rows of changed steps take the new version's name, words, role and form."""
    by_guid = {str(task.id): task for task in loaded.workflow.get_tasks(state=TaskState.READY)}
    rows = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == loaded.row.id,
            HumanTask.status == "open",
            HumanTask.bpmn_id.in_(changed_specs),
        )
    )
    with clock.at(now):
        for row in rows:
            task = by_guid.get(row.task_guid)
            if task is None:
                continue
            for key, value in describe_task(task).items():
                setattr(row, key, value)
