"""Deploying diagrams: each changed process becomes a new stored version, once."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.diagrams.bpmn import NS
from engine.diagrams.bundle import DiagramBundle
from engine.diagrams.forms import FORM_PROPERTY, UI_FORM_PROPERTY
from engine.diagrams.numbers import fill_numbers, methodology_numbers
from engine.diagrams.specs import specs_to_json
from engine.errors import DiagramRejected, EngineError, Problem
from models import ProcessDefinition


@dataclass(frozen=True)
class Deployed:
    """What deploying one process did: the version it left for the diagram given (new or
    not), that version's status, and the version in force for new instances (None: none)."""

    process_key: str
    version: int
    created: bool
    status: str = "active"
    in_force: int | None = None

    @property
    def held(self) -> bool:
        """A changed diagram kept out of force: another version is used by new instances."""
        return self.status != "active" and self.in_force is not None


def _needed_files(bundle: DiagramBundle, process_id: str) -> dict[str, str]:
    """The called diagrams and the forms a process version needs, by file name."""
    spec, subprocess_specs = bundle.spec(process_id)
    own_file = bundle.process_files[process_id]
    names: set[str] = set()
    for each in [spec, *subprocess_specs.values()]:
        if getattr(each, "file", None) and each.file != own_file:
            names.add(each.file)
        for task_spec in each.task_specs.values():
            props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            names.update(v for k, v in props.items() if k in (FORM_PROPERTY, UI_FORM_PROPERTY))
    return {name: bundle.files[name] for name in sorted(names) if name in bundle.files}


def content_hash(xml: str, files: dict[str, str]) -> str:
    """The hash that tells two versions apart: the diagram and every file it needs."""
    digest = hashlib.sha256(xml.encode("utf-8"))
    for name in sorted(files):
        digest.update(b"\0" + name.encode("utf-8") + b"\0" + files[name].encode("utf-8"))
    return digest.hexdigest()


def replacement_problems(
    session: Session, bundle: DiagramBundle, replace: Collection[str] = ()
) -> list[Problem]:
    """Processes of the bundle whose id is already deployed from another diagram file.

    A diagram is the same diagram when its file name is the name a stored version of the
    process was deployed from (`source_name`): a new version of it is ordinary. Another file
    defining the same id (two modelers' `Process_1`) would silently replace an unrelated
    procedure, so it is refused unless its id is in `replace`.
    """
    problems: list[Problem] = []
    for process_id in bundle.process_ids():
        if process_id in replace:
            continue
        source = bundle.process_files[process_id]
        stored = list(
            session.scalars(
                select(ProcessDefinition)
                .where(ProcessDefinition.process_key == process_id)
                .order_by(ProcessDefinition.version.desc())
            )
        )
        if not stored or any(d.source_name == _file_name(source) for d in stored):
            continue
        latest = stored[0]
        problems.append(
            Problem(
                source,
                process_id,
                f"defines the process '{process_id}', which is already deployed from another "
                f"file, {latest.source_name} ('{latest.name}', version {latest.version}); "
                "deploying it would replace that procedure. Give this process another id, "
                f"or, if it is meant to replace it, deploy with --replace-process {process_id}",
            )
        )
    return problems


def _file_name(source: str) -> str:
    """The name a diagram is known by, whatever folder it was deployed from."""
    return PurePath(source).name


def deploy_bundle(
    session: Session,
    bundle: DiagramBundle,
    *,
    actor: str,
    now: datetime,
    status: str = "active",
    replace: Collection[str] = (),
    changed_status: str | None = None,
    changed_note: Mapping[str, str] | None = None,
) -> list[Deployed]:
    """Store each process of the bundle as a new version unless its content is unchanged.

    A process deployed for the first time gets `status`; a changed one (it has versions
    already) gets `changed_status` (default: `status`), with `changed_note` in its audit
    event. An active new version replaces the active one for new starts; running instances
    keep the version they started on. A diagram equal to the version in force is unchanged;
    one equal to the latest version is unchanged too unless it is to be put in force and
    that version is not. A process already deployed from another file is refused
    (DiagramRejected) unless its id is in `replace`.
    """
    refused = replacement_problems(session, bundle, replace)
    if refused:
        raise DiagramRejected(refused)
    results: list[Deployed] = []
    for process_id in bundle.process_ids():
        xml = bundle.files[bundle.process_files[process_id]]
        files = _needed_files(bundle, process_id)
        digest = content_hash(xml, files)
        latest = session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_key == process_id)
            .order_by(ProcessDefinition.version.desc())
        ).first()
        active = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == process_id, ProcessDefinition.status == "active"
            )
        ).first()
        in_force = active.version if active else None
        wanted = status if latest is None else (changed_status or status)
        if active is not None and active.content_hash == digest:
            results.append(Deployed(process_id, active.version, False, "active", in_force))
            continue
        if (
            latest is not None
            and latest.content_hash == digest
            and (wanted != "active" or latest.status == "active")
        ):
            results.append(Deployed(process_id, latest.version, False, latest.status, in_force))
            continue
        element = bundle.process_element(process_id)
        documentation = element.findtext("bpmn:documentation", default="", namespaces=NS)
        spec, subprocess_specs = bundle.spec(process_id)
        if wanted == "active" and active is not None:
            active.status = "retired"
        definition = ProcessDefinition(
            process_key=process_id,
            version=(latest.version + 1) if latest else 1,
            name=element.get("name") or process_id,
            description=fill_numbers(
                documentation.strip(), methodology_numbers(spec, subprocess_specs)
            ),
            status=wanted,
            content_hash=digest,
            source_name=_file_name(bundle.process_files[process_id]),
            bpmn_xml=xml,
            files=files,
            spec_json=specs_to_json(spec, subprocess_specs),
            created_at=now,
            created_by=actor,
            activated_at=now if wanted == "active" else None,
        )
        session.add(definition)
        session.flush()
        payload: dict[str, object] = {
            "process": process_id,
            "version": definition.version,
            "hash": digest,
            "status": wanted,
        }
        if latest is not None and changed_note:
            payload.update(changed_note)
        audit.record(session, kind="definition.deployed", actor=actor, now=now, payload=payload)
        if wanted == "active":
            in_force = definition.version
        results.append(Deployed(process_id, definition.version, True, wanted, in_force))
    return results


def find_version(session: Session, process_key: str, version: int) -> ProcessDefinition:
    """One stored version of a process; EngineError when there is none."""
    found = session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_key == process_key, ProcessDefinition.version == version
        )
    ).first()
    if found is None:
        raise EngineError(f"there is no version {version} of the procedure '{process_key}'")
    return found


def change_status(
    session: Session,
    definition: ProcessDefinition,
    status: str,
    *,
    actor: str,
    now: datetime,
    decision_id: int | None = None,
) -> ProcessDefinition:
    """Move a version along draft -> proposed -> active -> retired (or back to draft).

    Activating a version retires the one that was active: new instances start on the new
    version, running instances finish on the version they started with.
    """
    allowed = {
        "draft": {"proposed"},
        "proposed": {"active", "draft"},
        "active": {"retired"},
        "retired": set(),
    }
    if status not in allowed[definition.status]:
        raise EngineError(
            f"version {definition.version} of '{definition.process_key}' is "
            f"{definition.status}; it cannot become {status}"
        )
    if status == "active":
        for previous in session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == definition.process_key,
                ProcessDefinition.status == "active",
            )
        ):
            previous.status = "retired"
        definition.activated_at = now
        definition.adopted_by_decision_id = decision_id
    definition.status = status
    session.flush()
    audit.record(
        session,
        kind=f"definition.{status}",
        actor=actor,
        now=now,
        payload={
            "process": definition.process_key,
            "version": definition.version,
            "decision_id": decision_id,
        },
    )
    return definition
