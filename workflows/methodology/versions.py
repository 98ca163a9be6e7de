"""The versions of a procedure: who drafted each, which Board decision adopted it, when it was
in force, and how many procedures still run on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Decision, ProcessDefinition, ProcessInstance

# Audit events that put a version in force (a bootstrap deployment, or the Board's adoption).
_IN_FORCE_KINDS = ("definition.deployed", "definition.active", "definition.retired")


@dataclass(frozen=True)
class VersionEntry:
    """One version of a procedure, as the history lists it."""

    version: int
    status: str
    created_at: datetime
    created_by: str | None
    activated_at: datetime | None
    adopted_by_decision_id: int | None
    decision_subject: str | None
    retired_at: datetime | None
    instances_running: int


def version_history(session: Session, process_key: str) -> list[VersionEntry]:
    """Every version of a procedure, the newest first."""
    versions = list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_key == process_key)
            .order_by(ProcessDefinition.version.desc())
        )
    )
    decision_ids = {v.adopted_by_decision_id for v in versions if v.adopted_by_decision_id}
    subjects: dict[int, str] = {
        decision_id: subject
        for decision_id, subject in session.execute(
            select(Decision.id, Decision.subject).where(Decision.id.in_(decision_ids))
        )
    }
    running: dict[int, int] = {
        definition_id: count
        for definition_id, count in session.execute(
            select(ProcessInstance.definition_id, func.count())
            .where(
                ProcessInstance.definition_id.in_([v.id for v in versions]),
                ProcessInstance.status == "running",
            )
            .group_by(ProcessInstance.definition_id)
        )
    }
    retired = _retired_at(session, process_key)
    return [
        VersionEntry(
            version=v.version,
            status=v.status,
            created_at=v.created_at,
            created_by=v.created_by,
            activated_at=v.activated_at,
            adopted_by_decision_id=v.adopted_by_decision_id,
            decision_subject=subjects.get(v.adopted_by_decision_id)
            if v.adopted_by_decision_id
            else None,
            retired_at=retired.get(v.version) if v.status == "retired" else None,
            instances_running=running.get(v.id, 0),
        )
        for v in versions
    ]


def _retired_at(session: Session, process_key: str) -> dict[int, datetime]:
    """When each version stopped being the one in force, from the audit trail.

    A version is retired when another is put in force, so the moment is that of the next
    activation (or of an explicit `definition.retired` event).
    """
    retired: dict[int, datetime] = {}
    in_force: int | None = None
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.kind.in_(_IN_FORCE_KINDS)).order_by(AuditEvent.seq)
    )
    for event in events:
        payload = event.payload or {}
        if payload.get("process") != process_key or not isinstance(payload.get("version"), int):
            continue
        version = int(payload["version"])
        if event.kind == "definition.retired":
            retired.setdefault(version, event.occurred_at)
            if in_force == version:
                in_force = None
            continue
        if event.kind == "definition.deployed" and payload.get("status") != "active":
            continue
        if in_force is not None and in_force != version:
            retired.setdefault(in_force, event.occurred_at)
        in_force = version
    return retired
