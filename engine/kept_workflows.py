"""Workflows kept in memory after a save, so the next step of the same instance in this
process goes on from them instead of restoring the state from JSON again.

Restoring is the largest single cost of a step (docs/BENCHMARKS.md). A kept workflow is
used only while it is exactly what the database holds:
- it is taken by the instance's id together with the state text it was saved as, and used
  only if the row read now holds that very text (a step in another process, a unit of work
  that rolled back after its save, a restore from backup: the text differs, the kept
  workflow is dropped and the state restored);
- it must run on the same spec objects the instance runs on now (a migration moves it);
- it is kept only when its JSON reads back equal to its data (see workflow_to_json_checked);
- with it are kept the timer and open inbox rows its save wrote: only a save of the
  instance changes which of its tasks are open and when they are due, so while the state
  text is the same, so are they, and the next save need not read them;
- taking it removes it, so two threads never share one workflow; the unit of work that
  took it hands it back when it saves.

Code must not change a workflow after its last save in a unit of work: the kept workflow
would then differ from the state text it is kept under.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

Specs = tuple[Any, dict[str, Any]]
TimerKeys = frozenset[tuple[str, str, datetime]]
# The open inbox rows a save left: task id -> (row id, due time).
OpenTasks = dict[str, tuple[int, datetime | None]]


@dataclass(frozen=True)
class Projections:
    """What the timer and inbox tables hold for a saved state (None: not known, read them)."""

    timers: TimerKeys | None = None
    open_tasks: OpenTasks | None = None


# Instances kept per process. A Board decision's workflow holds about 50 KiB; the largest
# methodology's a few hundred. IISG_KEPT_WORKFLOWS=0 turns keeping off.
DEFAULT_SIZE = 128


@dataclass
class _Kept:
    state_json: str
    spec: Any
    subprocess_specs: dict[str, Any]
    workflow: BpmnWorkflow
    projections: Projections


class KeptWorkflows:
    """The last saved workflow of recently changed instances, least recently used dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(
        self, instance_id: int, state_json: str, specs: Specs
    ) -> tuple[BpmnWorkflow, Projections] | None:
        """The kept workflow of this instance if it is exactly `state_json` on `specs`;
        removed from the store either way."""
        with self._lock:
            kept = self._items.pop(instance_id, None)
            found = (
                kept is not None
                and kept.spec is specs[0]
                and kept.subprocess_specs == specs[1]
                and kept.state_json == state_json
            )
            if found:
                self.hits += 1
            else:
                self.misses += 1
        if not found or kept is None:
            return None
        return kept.workflow, kept.projections

    def keep(
        self,
        instance_id: int,
        state_json: str,
        workflow: BpmnWorkflow,
        projections: Projections,
    ) -> None:
        """Keep a workflow just saved as `state_json`, with the projections that save wrote."""
        if self.size <= 0:
            return
        kept = _Kept(state_json, workflow.spec, workflow.subprocess_specs, workflow, projections)
        with self._lock:
            self._items[instance_id] = kept
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept workflow."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _size_from_environment() -> int:
    value = os.environ.get("IISG_KEPT_WORKFLOWS", "").strip()
    if not value:
        return DEFAULT_SIZE
    try:
        return max(0, int(value))
    except ValueError as err:
        raise ValueError(
            f"IISG_KEPT_WORKFLOWS must be a whole number of instances, not {value!r}"
        ) from err


kept_workflows = KeptWorkflows(_size_from_environment())
