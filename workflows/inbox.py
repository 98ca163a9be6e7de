"""The inbox's rules: which open tasks a person sees and how they are filtered, the
Secretariat's reassignment, who may see a procedure instance, and comments on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, ScalarSelect, or_, select
from sqlalchemy.orm import Session, aliased

from engine import audit
from engine.assignment import (
    Participant,
    describe_holder,
    is_offered_to,
    open_offered_clause,
)
from engine.instances import change_claim, require_open_task
from models import Comment, HumanTask, ProcessDefinition, ProcessInstance, User
from workflows.access import NoAccess, check_may_see_instance
from workflows.accounts import participant as participant_of
from workflows.roles import BOARD_SEATS, PILLARS, ROLES, partner_name

SORTS: dict[str, str] = {
    "due": "Due soonest",
    "created": "Newest first",
    "procedure": "Procedure",
}
STATES: dict[str, str] = {"open": "All open", "late": "Overdue only"}
# Enough for any one person's work; the Secretariat narrows "everyone's tasks" with filters.
INBOX_SHOWN = 500
COMMENT_MAX_CHARS = 5000
SEARCH_MAX_CHARS = 200

Section = Literal["mine", "roles", "others"]


class Refused(Exception):
    """A request the rules refuse; the message says why, in words the person can act on."""


@dataclass(frozen=True)
class InboxFilter:
    """What the person chose to see; every field round-trips through the URL's query."""

    procedure: str = ""
    pillar: str = ""
    partner: str = ""
    state: str = "open"
    search: str = ""
    sort: str = "due"
    everyone: bool = False

    def query(self) -> dict[str, str]:
        """The query-string parameters that give this view again (defaults left out)."""
        found = {
            "procedure": self.procedure,
            "pillar": self.pillar,
            "partner": self.partner,
            "state": "" if self.state == "open" else self.state,
            "q": self.search,
            "sort": "" if self.sort == "due" else self.sort,
            "whose": "everyone" if self.everyone else "",
        }
        return {key: value for key, value in found.items() if value}

    @property
    def narrowed(self) -> bool:
        """True when something other than the defaults hides tasks."""
        return bool(self.procedure or self.pillar or self.partner or self.search) or (
            self.state != "open"
        )


def inbox_filter(args: Mapping[str, str]) -> InboxFilter:
    """The filter a query string asks for; unknown values fall back to the defaults."""
    # A NUL character can be sent in a URL but not stored or searched in PostgreSQL.
    args = {key: value.replace("\x00", "") for key, value in args.items()}
    state = args.get("state", "open")
    sort = args.get("sort", "due")
    return InboxFilter(
        procedure=args.get("procedure", "").strip()[:128],
        pillar=args.get("pillar", "") if args.get("pillar", "") in PILLARS else "",
        partner=args.get("partner", "").strip()[:32],
        state=state if state in STATES else "open",
        search=" ".join(args.get("q", "").split())[:SEARCH_MAX_CHARS],
        sort=sort if sort in SORTS else "due",
        everyone=args.get("whose") == "everyone",
    )


@dataclass(frozen=True)
class InboxRow:
    """An open task as the inbox lists it."""

    task: HumanTask
    procedure: str
    scope: str
    section: Section


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its `%`, `_` and `\\` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(text: str, title: ScalarSelect[str]) -> ColumnElement[bool]:
    pattern = like_pattern(text)
    return or_(
        HumanTask.name.ilike(pattern, escape="\\"),
        title.ilike(pattern, escape="\\"),
    )


def _title(task: type[HumanTask]) -> ScalarSelect[str]:
    # Looked up by primary key for each task found rather than joined: a join may be planned
    # as a read of every instance ever run, to find the few tasks that are open.
    return (
        select(ProcessInstance.title)
        .where(ProcessInstance.id == task.instance_id)
        .scalar_subquery()
    )


def open_tasks(
    session: Session, person: Participant, chosen: InboxFilter, now: datetime
) -> list[InboxRow]:
    """The open tasks the person sees with these filters, in one query.

    Everyone's tasks are for the Secretariat only (to see who holds what and reassign it).
    """
    if chosen.everyone and not person.holds("secretariat"):
        raise NoAccess("Only the Secretariat sees everyone's tasks.")
    query = select(HumanTask)
    if chosen.everyone:
        query = query.where(HumanTask.status == "open")
    else:
        query = query.where(open_offered_clause(person))
    if chosen.procedure:
        query = query.where(HumanTask.process_key == chosen.procedure)
    if chosen.pillar:
        query = query.where(HumanTask.pillar == chosen.pillar)
    if chosen.partner:
        query = query.where(HumanTask.organisation == chosen.partner)
    if chosen.state == "late":
        query = query.where(HumanTask.due_at < now)
    if chosen.search:
        query = query.where(_search(chosen.search, _title(HumanTask)))
    # The tasks are found first, through their indexes, and only then sorted and cut: a
    # plan made once for any person (a prepared statement) could otherwise walk the due-date
    # index through every task ever completed, to stop after the first few hundred.
    found = query.cte("found").prefix_with("MATERIALIZED")
    task = aliased(HumanTask, found)
    title = _title(task)
    due_first = (task.due_at.asc().nulls_last(), task.created_at, task.id)
    order: tuple[Any, ...]
    if chosen.sort == "created":
        order = (task.created_at.desc(), task.id.desc())
    elif chosen.sort == "procedure":
        order = (title, *due_first)
    else:
        order = due_first
    rows = session.execute(select(task, title).order_by(*order).limit(INBOX_SHOWN)).all()
    return [
        InboxRow(found_task, found_title, scope_words(found_task), _section(person, found_task))
        for found_task, found_title in rows
    ]


def _section(person: Participant, task: HumanTask) -> Section:
    if person.username in (task.claimed_by, task.assignee):
        return "mine"
    if is_offered_to(person, task) and task.claimed_by is None:
        return "roles"
    return "others"


def scope_words(task: HumanTask) -> str:
    """Who a task is for, in words: the role and its seat or partner and pillar."""
    if task.assignee:
        return f"Assigned to {task.assignee}"
    role = ROLES[task.role].lane if task.role in ROLES else task.role.replace("_", " ")
    parts = [role]
    if task.organisation:
        parts.append(partner_name(task.organisation))
    if task.pillar:
        parts.append(f"pillar {task.pillar}")
    return " · ".join(parts)


def procedure_choices(session: Session) -> list[tuple[str, str]]:
    """Every procedure that has been deployed, as (process key, name), by name."""
    names: dict[str, str] = {}
    for key, name in session.execute(
        select(ProcessDefinition.process_key, ProcessDefinition.name).order_by(
            ProcessDefinition.version
        )
    ):
        names[key] = name  # the newest version's name wins
    return sorted(names.items(), key=lambda pair: pair[1].lower())


def partner_choices() -> list[tuple[str, str]]:
    """The partners a task can be scoped to, as (code, name as shown)."""
    return [(seat.code, seat.display_name) for seat in BOARD_SEATS]


def pillar_choices() -> list[tuple[str, str]]:
    """The pillars, as (key, its name and what it covers)."""
    return [(key, f"{key}: {words}") for key, words in PILLARS.items()]


def who_may_take(session: Session, task: HumanTask) -> list[User]:
    """The active users the Secretariat may hand the task to: those holding its role within
    its scope, whoever has claimed it (recipients.holders_of, by contrast, names only the
    claimer of a claimed task)."""
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.grants.any(role=task.role))
        .order_by(User.display_name)
    )
    return [user for user in users if is_offered_to(participant_of(user), task)]


def reassign_task(
    session: Session, task_id: int, username: str, *, actor: Participant, now: datetime
) -> HumanTask:
    """The Secretariat hands an open task to one named holder of its role and scope."""
    if not actor.holds("secretariat"):
        raise NoAccess("Only the Secretariat may reassign tasks.")
    task = require_open_task(session, task_id)
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        raise Refused(f"There is no active user '{username.strip()}'. Choose one from the list.")
    if not is_offered_to(participant_of(user), task):
        raise Refused(
            f"{user.display_name} cannot take '{task.name}': it is for "
            f"{describe_holder(task)}. Choose someone who holds that role."
        )
    previous = task.claimed_by
    if previous != user.username:
        change_claim(session, task, user.username)
        audit.record(
            session,
            kind="task.reassigned",
            actor=actor.username,
            now=now,
            instance_id=task.instance_id,
            payload={"task": task.bpmn_id, "from": previous, "to": user.username},
        )
    session.flush()
    return task


def comments(session: Session, instance_id: int) -> list[Comment]:
    """The comments on a procedure instance, oldest first."""
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.instance_id == instance_id)
            .order_by(Comment.created_at, Comment.id)
        )
    )


def add_comment(
    session: Session, instance_id: int, text: str, *, author: Participant, now: datetime
) -> Comment:
    """Add a comment to a procedure instance, for everyone who may see it."""
    check_may_see_instance(session, author, instance_id)
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise Refused("The comment is empty: write something first.")
    if len(body) > COMMENT_MAX_CHARS:
        raise Refused(
            f"The comment has {len(body)} characters; at most {COMMENT_MAX_CHARS} fit. "
            "Shorten it, or upload a longer text as a document."
        )
    comment = Comment(instance_id=instance_id, author=author.username, text=body, created_at=now)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        kind="comment.added",
        actor=author.username,
        now=now,
        instance_id=instance_id,
        payload={"comment": comment.id, "characters": len(body)},
    )
    return comment
