"""The methodology's diagrams: validating them with the IISG's roles and deploying them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deploy import Deployed, deploy_bundle
from engine.diagram import check_bundle, read_directory, require_bundle
from engine.errors import Problem
from models import ProcessDefinition
from workflows.roles import known_roles

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


def validate_files(paths: Iterable[Path]) -> list[Problem]:
    """Every problem in the given diagram files; their directories' other files resolve calls."""
    files: dict[str, str] = {}
    library: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            files[path.name] = ""
            continue
        files[path.name] = path.read_text(encoding="utf-8", errors="replace")
        for name, text in read_directory(path.parent).items():
            library.setdefault(name, text)
    _, problems = check_bundle(files, known_roles(), library)
    return problems


def deploy_directory(
    session: Session,
    directory: Path,
    *,
    actor: str,
    now: datetime,
) -> list[Deployed]:
    """Deploy every process in a directory; unchanged processes keep their version."""
    bundle = require_bundle(read_directory(directory), known_roles())
    return deploy_bundle(session, bundle, actor=actor, now=now)


def active_processes(session: Session) -> list[ProcessDefinition]:
    """The catalogue: the active version of every process."""
    return list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.status == "active")
            .order_by(ProcessDefinition.name)
        )
    )
