"""The methodology's diagrams: validating them with the IISG's roles and deploying them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.bundle import (
    check_bundle,
    form_problems,
    is_form_name,
    read_directory,
    require_bundle,
)
from engine.diagrams.deploy import Deployed, change_status, deploy_bundle, find_version
from engine.errors import DiagramRejected, Problem
from engine.services import ServiceCall, register
from models import ProcessDefinition
from workflows.people.roles import known_roles

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
AMENDMENT = "methodology_amendment"


@dataclass(frozen=True)
class WithoutBoardAdoption:
    """An explicit bypass of the Board: who puts changed diagrams in force, and why."""

    by: str
    reason: str


def validate_files(paths: Iterable[Path]) -> list[Problem]:
    """Every problem in the given diagram files, each file checked alone: the other files of
    its folder only resolve what it calls, so its result is the same alone and in a batch.
    A file is named by its path as given; a .json file named is checked as a form."""
    problems: list[Problem] = []
    for path in paths:
        problems.extend(_validate_one(path))
    return problems


def _validate_one(path: Path) -> list[Problem]:
    shown = str(path)
    if path.is_dir():
        return [Problem(shown, None, "is a folder: name the diagram files in it (folder/*.bpmn)")]
    if not path.exists():
        return [Problem(shown, None, "there is no such file")]
    try:
        content = path.read_bytes()
    except OSError as err:
        return [Problem(shown, None, f"cannot be read: {err.strerror or err}")]
    if is_form_name(path.name):
        return form_problems(shown, content)
    try:
        library = read_directory(path.parent)
    except OSError:
        library = {}
    library.pop(path.name, None)
    _, problems = check_bundle({shown: content}, known_roles(), library)
    return problems


def deploy_directory(
    session: Session,
    directory: Path,
    *,
    actor: str,
    now: datetime,
    status: str = "active",
    replace: Collection[str] = (),
    without_board_adoption: WithoutBoardAdoption | None = None,
) -> list[Deployed]:
    """Deploy every process in a directory; unchanged processes keep their version.

    A process deployed for the first time is put in force (or, with status "draft", saved as
    a draft). After that the methodology is amended only by the Board ("The IISG Response
    Mapping Methodology and any modification thereof are to be adopted by the IISG Board",
    Methodology for the Annual Response Mapping Report, 2022, III): a changed process is
    saved as a draft, which the amendment procedure puts to the Board, unless
    `without_board_adoption` says who bypasses the Board and why; the audit trail records
    both with each version so put in force. Calls resolve against the methodology's own
    diagrams too. A process whose id is already deployed from another file is refused
    unless its id is in `replace`.
    """
    if not directory.is_dir():
        raise DiagramRejected([Problem(str(directory), None, "there is no such folder")])
    try:
        files = read_directory(directory)
        library = read_directory(BPMN_DIR) if directory.resolve() != BPMN_DIR else None
    except OSError as err:
        raise DiagramRejected(
            [Problem(str(err.filename or directory), None, f"cannot be read: {err.strerror}")]
        ) from err
    bundle = require_bundle(files, known_roles(), library)
    bypass = without_board_adoption if status == "active" else None
    if bypass is not None and not bypass.reason.strip():
        raise DiagramRejected(
            [Problem(str(directory), None, "say why the Board is bypassed: the reason is empty")]
        )
    return deploy_bundle(
        session,
        bundle,
        actor=actor,
        now=now,
        status=status,
        replace=replace,
        changed_status="active" if bypass else "draft",
        changed_note=(
            {"without_board_adoption": bypass.reason.strip(), "by": bypass.by} if bypass else None
        ),
    )


def active_processes(session: Session) -> list[ProcessDefinition]:
    """The catalogue: the active version of every process."""
    return list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.status == "active")
            .order_by(ProcessDefinition.name)
        )
    )


def _version(call: ServiceCall) -> ProcessDefinition:
    return find_version(
        call.context.session, str(call.params["process_key"]), int(call.params["version"])
    )


@register("propose_methodology_version")
def propose_methodology_version(call: ServiceCall) -> dict[str, Any]:
    """Put a draft version of a procedure's diagram to the Board."""
    definition = _version(call)
    change_status(
        call.context.session, definition, "proposed", actor=call.context.actor, now=call.context.now
    )
    return {
        "definition_id": definition.id,
        "process_key": definition.process_key,
        "version": definition.version,
        "name": definition.name,
    }


@register("adopt_methodology_version")
def adopt_methodology_version(call: ServiceCall) -> dict[str, Any]:
    """The Board adopted it: new instances start on this version from now on."""
    definition = _version(call)
    decision_id = call.params.get("decision_id")
    change_status(
        call.context.session,
        definition,
        "active",
        actor=call.context.actor,
        now=call.context.now,
        decision_id=int(decision_id) if decision_id else None,
    )
    return {"definition_id": definition.id, "status": definition.status}


@register("return_methodology_version_to_draft")
def return_methodology_version_to_draft(call: ServiceCall) -> dict[str, Any]:
    """The Board did not adopt it: the version goes back to the Secretariat as a draft."""
    definition = _version(call)
    change_status(
        call.context.session, definition, "draft", actor=call.context.actor, now=call.context.now
    )
    return {"definition_id": definition.id, "status": definition.status}
