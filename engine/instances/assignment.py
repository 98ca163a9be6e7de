"""Who may act on a human task: its role, its scope (organisation, pillar), its claim."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, func, or_

from engine.errors import ClaimedByOther, NotAllowed
from models import HumanTask


@dataclass(frozen=True)
class Grant:
    """A role held, optionally within one organisation and one pillar."""

    role: str
    organisation: str | None = None
    pillar: str | None = None


@dataclass(frozen=True)
class Participant:
    """A person acting: their user name and every role they hold."""

    username: str
    grants: frozenset[Grant] = field(default_factory=frozenset)

    def holds(self, role: str) -> bool:
        """True when the person holds `role` in any scope."""
        return any(g.role == role for g in self.grants)


def _grant_covers(grant: Grant, task: HumanTask) -> bool:
    return (
        grant.role == task.role
        and (task.organisation is None or grant.organisation == task.organisation)
        and (task.pillar is None or grant.pillar == task.pillar)
    )


def is_offered_to(participant: Participant, task: HumanTask) -> bool:
    """True when the task is offered to the person (claims aside)."""
    if task.assignee is not None:
        return task.assignee == participant.username
    return any(_grant_covers(g, task) for g in participant.grants)


def check_may_act(participant: Participant, task: HumanTask) -> None:
    """Raise NotAllowed, saying why, unless the person may complete or claim the task."""
    if not is_offered_to(participant, task):
        raise NotAllowed(
            f"'{task.name}' is not one of your tasks: it is for {describe_holder(task)}."
        )
    if task.claimed_by is not None and task.claimed_by != participant.username:
        raise ClaimedByOther(
            f"'{task.name}' has been claimed by {task.claimed_by}; ask them to "
            "release it, or the Secretariat to reassign it."
        )


def describe_holder(task: HumanTask) -> str:
    """Plain words for who a task is for."""
    if task.assignee:
        return task.assignee
    words = task.role.replace("_", " ")
    scope = ", ".join(s for s in (task.organisation, task.pillar) if s)
    return f"{words} ({scope})" if scope else words


def offered_clause(participant: Participant) -> ColumnElement[bool]:
    """SQL condition: tasks offered to the person and not claimed by someone else."""
    by_grant = [
        and_(
            HumanTask.role == g.role,
            or_(HumanTask.organisation.is_(None), HumanTask.organisation == g.organisation)
            if g.organisation is not None
            else HumanTask.organisation.is_(None),
            or_(HumanTask.pillar.is_(None), HumanTask.pillar == g.pillar)
            if g.pillar is not None
            else HumanTask.pillar.is_(None),
        )
        for g in participant.grants
    ]
    offered = or_(
        HumanTask.assignee == participant.username,
        and_(HumanTask.assignee.is_(None), or_(*by_grant) if by_grant else false()),
    )
    return and_(
        offered,
        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == participant.username),
    )


def open_offered_clause(participant: Participant) -> ColumnElement[bool]:
    """SQL condition: open tasks offered to the person and not claimed by someone else.

    The same tasks as `status == "open"` with `offered_clause`, written as one exact lookup
    per way a task can be offered (status, role, organisation and pillar each equal or
    empty), so that the database finds them through the (status, role, organisation) index
    however many completed tasks years of procedures leave behind.
    """
    is_open = HumanTask.status == "open"
    # Tasks assigned by name are found by the assignee index. Their status is compared as an
    # expression, which no index serves: SQLite keeps no statistics, and could otherwise pick
    # the status index for this lookup and read every open task (which it did, depending on
    # the order the terms came in).
    assigned = and_(
        HumanTask.assignee == participant.username,
        func.coalesce(HumanTask.status, "") == "open",
    )
    lookups: list[ColumnElement[bool]] = [assigned]
    for g in participant.grants:
        organisations: list[ColumnElement[bool]] = [HumanTask.organisation.is_(None)]
        if g.organisation is not None:
            organisations.append(HumanTask.organisation == g.organisation)
        pillars: list[ColumnElement[bool]] = [HumanTask.pillar.is_(None)]
        if g.pillar is not None:
            pillars.append(HumanTask.pillar == g.pillar)
        lookups.extend(
            and_(
                is_open,
                HumanTask.role == g.role,
                organisation,
                pillar,
                HumanTask.assignee.is_(None),
            )
            for organisation in organisations
            for pillar in pillars
        )
    return and_(
        or_(*lookups),
        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == participant.username),
    )
