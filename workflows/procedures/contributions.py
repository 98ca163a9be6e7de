"""Which Support Group member organisations have contributed to a mapping, for the
Secretariat's view of the procedure: each is asked on its own
(`workflows.mappings.support_group`), and its task is done once it has contributed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import HumanTask, Organisation

# The steps at which a Support Group member organisation contributes to a mapping.
CONTRIBUTION_STEPS = ("add_project_support", "contribute_support_group")


@dataclass(frozen=True)
class Contribution:
    """Whether one member organisation has contributed to a mapping, in one pillar."""

    pillar: str
    organisation: str
    contributed: bool


def contributions(session: Session, instance_id: int) -> list[Contribution]:
    """The Support Group's asked contributions in a mapping, per pillar and organisation."""
    tasks = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id.in_(CONTRIBUTION_STEPS)
        )
    ).all()
    names: dict[str, str] = {}
    found: dict[tuple[str, str], bool] = {}
    for task in tasks:
        code = task.organisation or ""
        if code and code not in names:
            organisation = session.get(Organisation, code)
            names[code] = organisation.name if organisation is not None else code
        key = (task.pillar or "", names.get(code, code))
        found[key] = found.get(key, False) or task.status == "completed"
    return [Contribution(p, o, done) for (p, o), done in sorted(found.items())]
