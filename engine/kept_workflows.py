"""Workflows kept in memory after a save, so the next step of the same instance in this
process goes on from them instead of restoring the state from JSON again.

Restoring is the largest single cost of a step (docs/BENCHMARKS.md). A kept workflow is
used only while it is exactly what the database holds:
- it is taken by the instance's id together with the state text it was saved as, and used
  only if the row read now holds that very text (a step in another process, a unit of work
  that rolled back after its save, a restore from backup: the text differs, the kept
  workflow is dropped and the state restored);
- it must run on the same spec objects the instance runs on now (a migration moves it);
- it is kept only when its JSON reads back equal to its data (see engine.specs.SavedState);
- with it are kept the timer and open inbox rows its save wrote: only a save of the
  instance changes which of its tasks are open and when they are due, so while the state
  text is the same, so are they, and the next save need not read them;
- taking it removes it, so two threads never share one workflow; the unit of work that
  took it hands it back when it saves.

With it are also kept the rows that save left, as it wrote them (`KeptRows`): the instance
row, its version's unchanging columns, and the open inbox rows it knows. An answer to one of
those inbox rows can then go on without reading anything (`take_for_task`); its writes
assert that every row is still exactly as kept, and the unit of work starts again, reading,
if one is not (engine/runtime.py).

Code must not change a workflow after its last save in a unit of work: the kept workflow
would then differ from the state text it is kept under.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

Specs = tuple[Any, dict[str, Any]]
TimerKeys = frozenset[tuple[str, str, datetime]]
# A row's column values by attribute name, as a read of it gives them.
RowValues = dict[str, Any]
# The open inbox rows a save left: task id -> (row id, due time).
OpenTasks = dict[str, tuple[int, datetime | None]]


@dataclass(frozen=True)
class Projections:
    """What the timer and inbox tables hold for a saved state (None: not known, read them)."""

    timers: TimerKeys | None = None
    open_tasks: OpenTasks | None = None
    # Of the open inbox rows, those whose every column is known, by row id.
    task_rows: dict[int, RowValues] | None = None


@dataclass(frozen=True)
class KeptRows:
    """The rows a save left besides its projections: the instance row as it wrote it (its
    state is the kept text) and the unchanging columns of its version."""

    instance: RowValues
    definition: RowValues


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
    rows: KeptRows | None = None


@dataclass(frozen=True)
class TakenForTask:
    """A kept workflow taken for an answer to one of its open inbox rows, with the rows."""

    state_json: str
    spec: Any
    subprocess_specs: dict[str, Any]
    workflow: BpmnWorkflow
    projections: Projections
    rows: KeptRows


class KeptWorkflows:
    """The last saved workflow of recently changed instances, least recently used dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, _Kept] = OrderedDict()
        # The instance of each open inbox row kept with a workflow.
        self._instance_of_task: dict[int, int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.taken_for_answers = 0  # of the hits, those taken by an answer reading nothing

    def take(
        self, instance_id: int, state_json: str, specs: Specs
    ) -> tuple[BpmnWorkflow, Projections] | None:
        """The kept workflow of this instance if it is exactly `state_json` on `specs`;
        removed from the store either way."""
        with self._lock:
            kept = self._pop(instance_id)
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

    def take_for_task(self, task_id: int) -> TakenForTask | None:
        """The kept workflow whose save left inbox row `task_id` open, with the rows that
        save left; removed from the store. Nothing here says the rows are still so: the
        caller's writes must assert it."""
        with self._lock:
            instance_id = self._instance_of_task.get(task_id)
            kept = None if instance_id is None else self._pop(instance_id)
            if kept is None or kept.rows is None:
                return None
            self.hits += 1
            self.taken_for_answers += 1
        return TakenForTask(
            kept.state_json,
            kept.spec,
            kept.subprocess_specs,
            kept.workflow,
            kept.projections,
            kept.rows,
        )

    def keep(
        self,
        instance_id: int,
        state_json: str,
        workflow: BpmnWorkflow,
        projections: Projections,
        rows: KeptRows | None = None,
    ) -> None:
        """Keep a workflow just saved as `state_json`, with the projections and rows that save
        wrote."""
        if self.size <= 0:
            return
        kept = _Kept(
            state_json, workflow.spec, workflow.subprocess_specs, workflow, projections, rows
        )
        with self._lock:
            self._pop(instance_id)
            self._items[instance_id] = kept
            for task_id in _indexed(kept):
                self._instance_of_task[task_id] = instance_id
            while len(self._items) > self.size:
                self._pop(next(iter(self._items)))

    def _pop(self, instance_id: int) -> _Kept | None:
        """Remove an instance's kept workflow and its inbox rows (the lock held)."""
        kept = self._items.pop(instance_id, None)
        if kept is not None:
            for task_id in _indexed(kept):
                if self._instance_of_task.get(task_id) == instance_id:
                    del self._instance_of_task[task_id]
        return kept

    def clear(self) -> None:
        """Forget every kept workflow."""
        with self._lock:
            self._items.clear()
            self._instance_of_task.clear()

    def __len__(self) -> int:
        return len(self._items)


def _indexed(kept: _Kept) -> Iterable[int]:
    """The inbox rows an answer can find a kept workflow by."""
    if kept.rows is None:
        return ()
    return kept.projections.task_rows or {}


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
