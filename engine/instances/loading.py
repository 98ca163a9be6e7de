"""Loading an instance: its state row, its version's specs from the cache by hash (and the
versions of the processes it calls), restored into a live workflow run by a script engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.numbers import methodology_numbers
from engine.diagrams.specs import spec_cache, specs_from_json, workflow_from_json
from engine.errors import EngineError
from engine.instances.script_engine import DIAGRAM_SCRIPT_ENGINE
from engine.instances.timers import TimerKeys, timer_keys, waiting_timers
from models import ProcessDefinition, ProcessInstance


@dataclass
class LoadedInstance:
    """An instance row and its live workflow."""

    row: ProcessInstance
    workflow: BpmnWorkflow
    # The timer rows as the table holds them (it is written from the state on every save);
    # None for a new instance, so that its first save writes them all.
    saved_timers: TimerKeys | None = None

    @property
    def definition(self) -> ProcessDefinition:
        """The version the instance runs on."""
        return self.row.definition


def specs_of(definition: ProcessDefinition) -> tuple[Any, dict[str, Any]]:
    """The (cached) spec objects of a version."""
    return spec_cache.get_or_build(
        f"{definition.id}:{definition.content_hash}",
        lambda: specs_from_json(definition.spec_json),
    )


def resolve_called(session: Session, definition: ProcessDefinition) -> dict[str, int]:
    """The active version of every process a new instance will call, directly or not.

    A version stores the specs of the processes it calls as they were when it was deployed;
    an instance started later must use the versions in force then (an adopted amendment of
    `silent_procedure` applies to every procedure that calls it), and keeps them to the end.
    """
    called: dict[str, int] = {}
    pending = list(specs_of(definition)[1])
    while pending:
        key = pending.pop()
        if key in called:
            continue
        active = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == key, ProcessDefinition.status == "active"
            )
        ).first()
        if active is None:
            continue  # an embedded subprocess, not a process of its own
        called[key] = active.id
        pending.extend(specs_of(active)[1])
    return called


def instance_specs(
    session: Session, definition: ProcessDefinition, called: dict[str, int]
) -> tuple[Any, dict[str, Any]]:
    """The specs of an instance: its version's, with each called process at its fixed version."""
    if not called:
        return specs_of(definition)
    key = f"{definition.id}:{definition.content_hash}:" + ",".join(
        f"{name}={called[name]}" for name in sorted(called)
    )

    def build() -> tuple[Any, dict[str, Any]]:
        spec, embedded = specs_of(definition)
        merged = dict(embedded)
        for name, definition_id in called.items():
            callee = session.get(ProcessDefinition, definition_id)
            if callee is None:
                raise EngineError(f"version {definition_id} of '{name}' is missing")
            callee_spec, callee_embedded = specs_of(callee)
            merged.update({k: v for k, v in callee_embedded.items() if k not in called})
            merged[name] = callee_spec
        return spec, merged

    return spec_cache.get_or_build(key, build)


def instance_numbers(session: Session, instance: ProcessInstance) -> dict[str, str]:
    """The numbers an instance runs with: its version's and those of the versions it calls."""
    return methodology_numbers(
        *instance_specs(session, instance.definition, dict(instance.called_definitions or {}))
    )


def starting_numbers(session: Session, definition: ProcessDefinition) -> dict[str, str]:
    """The numbers an instance started now on `definition` would run with."""
    return methodology_numbers(
        *instance_specs(session, definition, resolve_called(session, definition))
    )


def new_workflow(
    definition: ProcessDefinition,
    called: dict[str, int] | None = None,
    session: Session | None = None,
    *,
    script_engine: PythonScriptEngine = DIAGRAM_SCRIPT_ENGINE,
) -> BpmnWorkflow:
    """A fresh workflow of a version, run by `script_engine` (the sandboxed one)."""
    if called and session is not None:
        spec, subprocess_specs = instance_specs(session, definition, called)
    else:
        spec, subprocess_specs = specs_of(definition)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def load(
    session: Session,
    instance_id: int,
    *,
    script_engine: PythonScriptEngine = DIAGRAM_SCRIPT_ENGINE,
) -> LoadedInstance:
    """Read an instance and restore its workflow, run by `script_engine` (the sandboxed one)."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise EngineError(f"there is no procedure instance {instance_id}")
    specs = instance_specs(session, row.definition, dict(row.called_definitions or {}))
    workflow = workflow_from_json(row.state_json, specs)
    # The script engine is not serialized: a restored workflow must get the sandbox back.
    workflow.script_engine = script_engine
    return LoadedInstance(row, workflow, timer_keys(waiting_timers(workflow)))
