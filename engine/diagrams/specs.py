"""Specs stored once per process version; instance state stored without them.

SpiffWorkflow's serializer writes the whole spec into every workflow. Here the workflow
converter leaves `spec` and `subprocess_specs` out, and on load the version's spec objects,
restored once per process and cached, are put back.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

Specs = tuple[Any, dict[str, Any]]
_VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY


class SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Converts a top-level workflow without its spec; restores it onto given spec objects."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], specs: Specs | None = None) -> BpmnWorkflow:
        if specs is None:
            return super().from_dict(dct)
        spec, subprocess_specs = specs
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = SpeclessWorkflowConverter
_registry = BpmnWorkflowSerializer.configure(_config)
_serializer = BpmnWorkflowSerializer(_registry)


def specs_to_json(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The serialized form of a process spec and the specs it calls, stored once per version."""
    return json.dumps(
        {
            "spec": _registry.convert(spec),
            "subprocess_specs": {
                name: _registry.convert(s) for name, s in subprocess_specs.items()
            },
        },
        separators=(",", ":"),
    )


def specs_from_json(text: str) -> Specs:
    """Spec objects from their stored form."""
    dct = json.loads(text)
    spec = _registry.restore(dct["spec"])
    subprocess_specs = {name: _registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


class SpecCache:
    """Spec objects by version key, restored once per process and kept (LRU)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, Specs] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: str, build: Callable[[], Specs]) -> Specs:
        """The specs for `key`, built by `build()` on first use."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        specs = build()
        with self._lock:
            self._items[key] = specs
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return specs


spec_cache = SpecCache()


def workflow_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The state of a running workflow as SpiffWorkflow's serializer gives it, without its
    spec: what its JSON is written from."""
    dct: dict[str, Any] = _serializer.to_dict(workflow)
    dct[_VERSION_KEY] = VERSION
    return dct


def workflow_to_json(workflow: BpmnWorkflow) -> str:
    """A running workflow's state as JSON, without its spec (as the engine saves it)."""
    return json.dumps(workflow_dict(workflow), separators=(",", ":"))


def workflow_from_json(text: str, specs: Specs) -> BpmnWorkflow:
    """Restore a workflow from state JSON onto its version's spec objects."""
    dct = json.loads(text)
    version = dct.pop(_VERSION_KEY, VERSION)
    if version != VERSION:
        dct[_VERSION_KEY] = version
        _serializer.migrate(dct)
    workflow: BpmnWorkflow = _registry.restore(dct, specs=specs)
    return workflow
