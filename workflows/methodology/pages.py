"""What the Secretariat's methodology pages read: every procedure with its versions, and
whether a running procedure may move to the version now in force."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import ProcessDefinition, ProcessInstance
from workflows.methodology.editor import (
    ChangeList,
    MigrationCheck,
    changes_between,
    migration_check,
)
from workflows.people.roles import SECRETARIAT


@dataclass
class ProcedureVersions:
    """One procedure in the methodology: its name, the version in force and the others."""

    process_key: str
    name: str
    active: int | None = None
    drafts: list[int] = field(default_factory=list)
    proposed: list[int] = field(default_factory=list)
    versions: int = 0


@dataclass(frozen=True)
class ChangeSection:
    """One kind of change between two versions, in sentences: steps, documentation, flows or
    forms (`kind`)."""

    kind: str
    lines: list[str]


@dataclass(frozen=True)
class MigrationOffer:
    """A newer version is in force: whether this running procedure may move to it, and why."""

    version: int
    check: MigrationCheck


def methodology_catalogue(session: Session) -> list[ProcedureVersions]:
    """Every procedure with a stored version, by name; the newest version names it."""
    rows = session.execute(
        select(
            ProcessDefinition.process_key,
            ProcessDefinition.name,
            ProcessDefinition.version,
            ProcessDefinition.status,
        ).order_by(ProcessDefinition.process_key, ProcessDefinition.version)
    ).all()
    found: dict[str, ProcedureVersions] = defaultdict(lambda: ProcedureVersions("", ""))
    for key, name, version, status in rows:
        entry = found[key]
        entry.process_key, entry.name = key, name
        entry.versions += 1
        if status == "active":
            entry.active = version
        elif status == "draft":
            entry.drafts.append(version)
        elif status == "proposed":
            entry.proposed.append(version)
    return sorted(found.values(), key=lambda entry: entry.name.lower())


def active_version(session: Session, process_key: str) -> int | None:
    """The number of the version in force, if any."""
    return session.scalar(
        select(ProcessDefinition.version).where(
            ProcessDefinition.process_key == process_key, ProcessDefinition.status == "active"
        )
    )


def changes_from_active(session: Session, definition: ProcessDefinition) -> list[str]:
    """What a version changes against the version in force, in sentences (none for itself)."""
    in_force = session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_key == definition.process_key,
            ProcessDefinition.status == "active",
        )
    ).first()
    if in_force is None or in_force.id == definition.id:
        return []
    return list(changes_between(in_force, definition).summary())


def change_sections(changes: ChangeList) -> list[ChangeSection]:
    """The change list split by kind, each kind in the sentences the Board reads."""
    parts = {
        "steps": ChangeList(elements=changes.elements, names=changes.names),
        "documentation": ChangeList(documentation=changes.documentation, names=changes.names),
        "flows": ChangeList(flows=changes.flows, names=changes.names),
        "forms": ChangeList(forms=changes.forms, names=changes.names),
    }
    return [ChangeSection(kind, part.summary()) for kind, part in parts.items() if part]


def migration_offer(
    session: Session, participant: Participant, instance: ProcessInstance
) -> MigrationOffer | None:
    """For the Secretariat, on a running procedure older than the version in force: the offer."""
    if not participant.holds(SECRETARIAT) or instance.status != "running":
        return None
    newest = active_version(session, instance.process_key)
    if newest is None or newest <= instance.definition.version:
        return None
    return MigrationOffer(newest, migration_check(session, instance.id, newest))
