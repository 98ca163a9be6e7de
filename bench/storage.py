"""What each instance stores, and how much of it is spec.

SpiffWorkflow's own serializer writes the whole process spec (and every called process's)
into each workflow; the engine stores it once per version instead. This reads back what the
instance rows hold and searches each stored state for a serialized spec: a `spec` or
`subprocess_specs` entry that is an object, or any object with `task_specs` (how a process
spec is serialized). What it finds is counted in bytes; it should find none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from bench.report import Check
from engine.instances.loading import load
from models import AuditEvent, Base, HumanTask, ProcessInstance, Timer

_STOCK = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def _bytes(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    return len(str(value).encode("utf-8"))


def spec_parts(value: Any) -> Iterator[Any]:
    """Every serialized spec inside a stored state."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if (key in ("spec", "subprocess_specs") and isinstance(inner, dict) and inner) or (
                isinstance(inner, dict) and "task_specs" in inner
            ):
                yield inner
            else:
                yield from spec_parts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from spec_parts(inner)


def _row_bytes(session: Session, table: Table, column: Any, instance_ids: list[int]) -> int:
    rows = session.execute(select(table).where(column.in_(instance_ids))).all()
    return sum(_bytes(v) for row in rows for v in row)


def measure(factory: sessionmaker[Session], instance_ids: list[int]) -> dict[str, Any]:
    """Bytes per instance by table, the spec bytes found in states, and the spec stored once."""
    tables = Base.metadata.tables
    with factory() as session:
        states = list(
            session.scalars(
                select(ProcessInstance.state_json).where(ProcessInstance.id.in_(instance_ids))
            )
        )
        spec_bytes = [sum(_bytes(p) for p in spec_parts(json.loads(s))) for s in states]
        count = len(states)
        by_table = {
            "process_instance": _row_bytes(
                session,
                tables[ProcessInstance.__tablename__],
                tables[ProcessInstance.__tablename__].c.id,
                instance_ids,
            ),
            "human_task": _row_bytes(
                session, tables[HumanTask.__tablename__], HumanTask.instance_id, instance_ids
            ),
            "timer": _row_bytes(
                session, tables[Timer.__tablename__], Timer.instance_id, instance_ids
            ),
            "audit_event": _row_bytes(
                session, tables[AuditEvent.__tablename__], AuditEvent.instance_id, instance_ids
            ),
        }
        loaded = load(session, instance_ids[0])
        definition = loaded.definition
        stock = json.loads(_STOCK.serialize_json(loaded.workflow))
        stock_spec = sum(_bytes(p) for p in spec_parts(stock))
        spec_once = len(definition.spec_json.encode("utf-8"))
    per_instance = {table: round(total / count) for table, total in by_table.items()}
    total = sum(per_instance.values())
    return {
        "instances": count,
        "bytes_per_instance": per_instance,
        "bytes_per_instance_total": total,
        "state_json_bytes_mean": round(sum(_bytes(s) for s in states) / count),
        "spec_bytes_per_instance": sum(spec_bytes) / count,
        "spec_share": sum(spec_bytes) / count / total,
        "instances_with_spec": sum(1 for b in spec_bytes if b),
        "spec_json_bytes_stored_once": spec_once,
        "stock_serializer_bytes": _bytes(stock),
        "stock_serializer_spec_bytes": stock_spec,
    }


def checks(name: str, figures: dict[str, Any]) -> list[Check]:
    """Bytes per instance (recorded) and spec bytes per instance (target: none)."""
    spec = figures["spec_bytes_per_instance"]
    return [
        Check(
            "stored bytes per instance (instance, tasks, timers, audit)",
            name,
            f"{figures['bytes_per_instance_total']:,} B "
            f"(state {figures['state_json_bytes_mean']:,} B)",
            "recorded",
            None,
        ),
        Check(
            "spec bytes stored per instance",
            name,
            f"{spec:,.0f} B ({figures['spec_share']:.0%}; stock SpiffWorkflow: "
            f"{figures['stock_serializer_spec_bytes']:,} B)",
            "0 B",
            spec == 0,
        ),
    ]
