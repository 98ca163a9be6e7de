"""The Secretariat keeps the IISG's people: who they are, their organisation, their roles
(Board member or alternate of a seat, focal point of an organisation and pillar, Support Group
member of a pillar, Secretariat, observer), and whether they may still log in.

Each change is one call in the caller's unit of work, audited; a mistake is `Refused` naming
the field. A person who loses a role gives back what they had claimed under it; a seat that
changes hands hands its claimed tasks to the new holder; answers already given stay as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from engine.instances.assignment import Grant, Participant, is_offered_to
from engine.instances.claims import change_claim
from models import HumanTask, Organisation, RoleGrant, User
from workflows.people.accounts import (
    NO_PASSWORD_YET,
    add_grant,
    create_user,
    find_user,
    participant,
    set_active,
)
from workflows.people.roles import PILLARS, SECRETARIAT, partner_name
from workflows.refusals import NoAccess, NoSuchThing

# The roles the Secretariat gives, as the people pages and the API name them.
ROLE_KINDS = {
    "board_member": "Board member",
    "board_alternate": "Board alternate",
    "focal_point": "Focal point",
    "support_group": "Support Group member",
    "secretariat": "Secretariat",
    "observer": "Observer",
}
# What each needs besides the role: a Board seat, an organisation, a pillar.
_NEEDS_SEAT = frozenset({"board_member", "board_alternate"})
_NEEDS_ORGANISATION = frozenset({"focal_point"})
_NEEDS_PILLAR = frozenset({"focal_point", "support_group"})
# The grants a person holds besides those the Secretariat gives here: reading as a member of
# their organisation follows the organisation; an applicant's login is the membership
# procedure's.
_KEPT_ROLES = frozenset({"member", "applicant"})

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
USERNAME_WORDS = (
    "use 2 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a "
    "letter or digit"
)
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_LENGTH = 255
EMAIL_LENGTH = 255


@dataclass(frozen=True)
class HeldRole:
    """A role as the Secretariat gives it: its kind, and the seat, organisation or pillar."""

    kind: str
    organisation: str | None = None
    pillar: str | None = None

    def grant(self) -> Grant:
        """The grant the engine offers tasks by (an alternate holds the seat's role too)."""
        role = "board_member" if self.kind == "board_alternate" else self.kind
        return Grant(role, self.organisation, self.pillar)

    @property
    def words(self) -> str:
        """The role in plain words: "Board member, Albania", "Focal point, Serbia, WBBSi"."""
        scope = [partner_name(self.organisation)] if self.organisation else []
        scope += [self.pillar] if self.pillar else []
        return ", ".join([ROLE_KINDS.get(self.kind, self.kind), *scope])


def held_roles(user: User) -> list[HeldRole]:
    """The roles the Secretariat gave the person, in the order of ROLE_KINDS."""
    roles = [
        HeldRole(
            "board_alternate" if g.role == "board_member" and g.alternate else g.role,
            g.organisation,
            g.pillar,
        )
        for g in user.grants
        if g.role in ROLE_KINDS
    ]
    return sorted(roles, key=_role_order)


def _role_order(role: HeldRole) -> tuple[int, str, str]:
    return list(ROLE_KINDS).index(role.kind), role.organisation or "", role.pillar or ""


def is_invited(user: User) -> bool:
    """True while an invited person has not set their password."""
    return user.password_hash == NO_PASSWORD_YET


def check_secretariat(actor: Participant) -> None:
    """NoAccess unless the actor is a member of the Secretariat."""
    if not actor.holds(SECRETARIAT):
        raise NoAccess(
            "The IISG's people are kept by the Secretariat. Your roles do not include it."
        )


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilter:
    """Which people to list: holding a role kind, of an organisation, active or not."""

    role: str | None = None
    organisation: str | None = None
    active: bool | None = None


def list_people(session: Session, where: PeopleFilter) -> list[User]:
    """The people the filter lets through, by name."""
    query = select(User).order_by(func.lower(User.display_name), User.username)
    if where.organisation:
        query = query.where(User.organisation == where.organisation)
    if where.active is not None:
        query = query.where(User.active.is_(where.active))
    people = list(session.scalars(query))
    if where.role:
        people = [p for p in people if any(r.kind == where.role for r in held_roles(p))]
    return people


def person(session: Session, username: str) -> User:
    """The person with this user name; NoSuchThing when there is none."""
    found = find_user(session, username)
    if found is None:
        raise NoSuchThing(f"There is no person with the user name '{username}'.")
    return found


# -- checking what the Secretariat typed -----------------------------------------------------


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Refused("name", "give the person's name as it is shown to others")
    if len(name) > NAME_LENGTH:
        raise Refused("name", f"give a name of at most {NAME_LENGTH} characters")
    return name


def _checked_email(session: Session, email: str, *, but_not: int | None = None) -> str:
    email = email.strip()
    if not email:
        raise Refused("email", "give the person's e-mail address: their invitation goes there")
    if len(email) > EMAIL_LENGTH or not _ADDRESS.match(email):
        raise Refused("email", f"'{email[:80]}' is not an e-mail address; write it as name@domain")
    taken = session.scalars(
        select(User).where(func.lower(User.email) == email.lower(), User.id != (but_not or 0))
    ).first()
    if taken is not None:
        raise Refused(
            "email",
            f"{email} is the address of {taken.display_name} ({taken.username}) already; "
            "each person has their own",
        )
    return email


def _checked_organisation(session: Session, code: str | None) -> str | None:
    code = (code or "").strip()
    if not code:
        return None
    if session.get(Organisation, code) is None:
        raise Refused("organisation", f"there is no organisation '{code}' on the members register")
    return code


def _checked_username(session: Session, username: str) -> str:
    username = username.strip()
    if not re.match(USERNAME_PATTERN, username):
        raise Refused("username", f"'{username[:80]}' cannot be a user name: {USERNAME_WORDS}")
    if find_user(session, username) is not None:
        raise Refused("username", f"the user name '{username}' is taken; choose another")
    return username


def _checked_role(session: Session, role: HeldRole) -> HeldRole:
    """The role as it is kept, or Refused naming `roles` with what it lacks."""
    kind = role.kind
    if kind not in ROLE_KINDS:
        raise Refused("roles", f"'{kind}' is not a role; roles are: {', '.join(ROLE_KINDS)}")
    words = ROLE_KINDS[kind].lower()
    organisation = (role.organisation or "").strip() or None
    pillar = (role.pillar or "").strip() or None
    if kind in _NEEDS_SEAT:
        seat = session.get(Organisation, organisation) if organisation else None
        if seat is None or not seat.board_seat:
            raise Refused(
                "roles",
                f"a {words} holds a Board seat: choose one of the seven seats (the six WB "
                "partners and the European Commission)",
            )
    elif kind in _NEEDS_ORGANISATION and organisation is None:
        raise Refused("roles", f"a {words} is the focal point of an organisation: choose it")
    elif kind not in _NEEDS_ORGANISATION and kind != "support_group":
        organisation = None
    if organisation is not None:
        organisation = _checked_organisation(session, organisation)
    if kind in _NEEDS_PILLAR:
        if pillar not in PILLARS:
            raise Refused("roles", f"a {words} works in one pillar: choose {', '.join(PILLARS)}")
    else:
        pillar = None
    return HeldRole(kind, organisation, pillar)


# -- changing --------------------------------------------------------------------------------


def _member_grant(session: Session, user: User) -> None:
    """A person of a member organisation reads what members read; one of no member does not."""
    organisation = session.get(Organisation, user.organisation) if user.organisation else None
    wanted = organisation.code if organisation is not None and organisation.is_member else None
    for grant in list(user.grants):
        if grant.role == "member" and grant.organisation != wanted:
            user.grants.remove(grant)
    if wanted is not None:
        add_grant(user, Grant("member", wanted))


def _seat_holder(session: Session, role: HeldRole, but_not: int) -> User | None:
    """Who holds this seat's place (member or alternate) now, besides the person `but_not`."""
    return session.scalars(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == "board_member",
            RoleGrant.organisation == role.organisation,
            RoleGrant.alternate.is_(role.kind == "board_alternate"),
            User.id != but_not,
        )
    ).first()


def _release_what_is_no_longer_theirs(
    session: Session, user: User, *, actor: str, now: datetime, reason: str
) -> None:
    """Give back to their role's pool the open tasks the person claimed and may no longer act
    on (all of them for a person deactivated)."""
    claimed = session.scalars(
        select(HumanTask).where(HumanTask.status == "open", HumanTask.claimed_by == user.username)
    )
    holder = participant(user)
    for task in list(claimed):
        if user.active and is_offered_to(holder, task):
            continue
        change_claim(session, task, None)
        audit.record(
            session,
            kind="task.released",
            actor=actor,
            now=now,
            instance_id=task.instance_id,
            payload={"task": task.bpmn_id, "from": user.username, "reason": reason},
        )


def _move_seat(
    session: Session, role: HeldRole, previous: User, new: User, *, actor: str, now: datetime
) -> None:
    """The seat's place passes from `previous` to `new`, and with it what `previous` claimed
    of the seat's open tasks. The record of answers given keeps who gave them."""
    for grant in list(previous.grants):
        if (grant.role, grant.organisation, grant.alternate) == (
            "board_member",
            role.organisation,
            role.kind == "board_alternate",
        ):
            previous.grants.remove(grant)
    session.flush()
    claimed = session.scalars(
        select(HumanTask).where(
            HumanTask.status == "open",
            HumanTask.role == "board_member",
            HumanTask.organisation == role.organisation,
            HumanTask.claimed_by == previous.username,
        )
    )
    for task in list(claimed):
        change_claim(session, task, new.username)
        audit.record(
            session,
            kind="task.reassigned",
            actor=actor,
            now=now,
            instance_id=task.instance_id,
            payload={"task": task.bpmn_id, "from": previous.username, "to": new.username},
        )
    audit.record(
        session,
        kind="board.seat_moved",
        actor=actor,
        now=now,
        payload={
            "seat": role.organisation,
            "place": "alternate" if role.kind == "board_alternate" else "member",
            "from": previous.username,
            "to": new.username,
        },
    )
    _release_what_is_no_longer_theirs(session, previous, actor=actor, now=now, reason="seat moved")


def set_roles(
    session: Session, user: User, roles: Iterable[HeldRole], *, actor: str, now: datetime
) -> User:
    """Give the person exactly these roles (audited). A seat's place someone else held moves
    to this person, with the tasks its holder had claimed."""
    wanted: list[HeldRole] = []
    for role in roles:
        checked = _checked_role(session, role)
        if checked not in wanted:
            wanted.append(checked)
    seats = [r.organisation for r in wanted if r.kind in _NEEDS_SEAT]
    if len(seats) != len(set(seats)):
        raise Refused(
            "roles", "a person holds a Board seat as its member or as its alternate, not both"
        )
    before = held_roles(user)
    if before == sorted(wanted, key=_role_order):
        return user
    for grant in list(user.grants):
        if grant.role not in _KEPT_ROLES:
            user.grants.remove(grant)
    session.flush()
    for role in wanted:
        if role.kind in _NEEDS_SEAT:
            previous = _seat_holder(session, role, but_not=user.id)
            if previous is not None:
                _move_seat(session, role, previous, user, actor=actor, now=now)
        given = role.grant()
        user.grants.append(
            RoleGrant(
                role=given.role,
                organisation=given.organisation,
                pillar=given.pillar,
                alternate=role.kind == "board_alternate",
            )
        )
    session.flush()
    audit.record(
        session,
        kind="person.roles_changed",
        actor=actor,
        now=now,
        payload={
            "username": user.username,
            "from": [r.words for r in before],
            "to": [r.words for r in held_roles(user)],
        },
    )
    _release_what_is_no_longer_theirs(session, user, actor=actor, now=now, reason="role removed")
    return user


def create_person(
    session: Session,
    username: str,
    *,
    name: str,
    email: str,
    organisation: str | None,
    roles: Sequence[HeldRole],
    actor: str,
    now: datetime,
) -> User:
    """A new person with their roles and no password yet (an invitation gives them theirs)."""
    user = create_user(
        session,
        _checked_username(session, username),
        None,
        display_name=_checked_name(name),
        email=_checked_email(session, email),
        organisation=_checked_organisation(session, organisation),
        now=now,
    )
    _member_grant(session, user)
    audit.record(
        session,
        kind="person.created",
        actor=actor,
        now=now,
        payload={
            "username": user.username,
            "name": user.display_name,
            "email": user.email,
            "organisation": user.organisation,
        },
    )
    if roles:
        set_roles(session, user, roles, actor=actor, now=now)
    return user


@dataclass(frozen=True)
class PersonChange:
    """What the Secretariat changes of a person; None leaves it as it is."""

    name: str | None = None
    email: str | None = None
    organisation: str | None = None
    # The organisation given as empty: the person belongs to none.
    no_organisation: bool = False
    roles: Sequence[HeldRole] | None = None
    active: bool | None = None


def change_person(
    session: Session, username: str, change: PersonChange, *, actor: str, now: datetime
) -> User:
    """Change a person's details, roles and whether they may log in; each part audited.

    A person deactivated cannot log in, their sessions end, their API tokens stop working and
    the tasks they had claimed return to their role's pool; what they answered stays."""
    user = person(session, username)
    details: dict[str, tuple[str | None, str | None]] = {}
    if change.name is not None:
        name = _checked_name(change.name)
        if name != user.display_name:
            details["name"] = (user.display_name, name)
            user.display_name = name
    if change.email is not None:
        email = _checked_email(session, change.email, but_not=user.id)
        if email != user.email:
            details["email"] = (user.email, email)
            user.email = email
    if change.organisation is not None or change.no_organisation:
        organisation = _checked_organisation(session, change.organisation)
        if organisation != user.organisation:
            details["organisation"] = (user.organisation, organisation)
            user.organisation = organisation
            _member_grant(session, user)
    if details:
        audit.record(
            session,
            kind="person.changed",
            actor=actor,
            now=now,
            payload={"username": user.username}
            | {field: {"from": old, "to": new} for field, (old, new) in details.items()},
        )
    if change.roles is not None:
        set_roles(session, user, change.roles, actor=actor, now=now)
    if change.active is not None and change.active != user.active:
        if not change.active and user.username == actor:
            raise Refused(
                "active", "you cannot deactivate yourself; ask another member of the Secretariat"
            )
        set_active(session, user.username, change.active, actor=actor, now=now)
        if not change.active:
            _release_what_is_no_longer_theirs(
                session, user, actor=actor, now=now, reason="account deactivated"
            )
    session.flush()
    return user


def organisation_name(session: Session, code: str | None) -> str:
    """An organisation's name as it must be shown (Kosovo* with its asterisk)."""
    if not code:
        return ""
    organisation = session.get(Organisation, code)
    shown = partner_name(code)
    if shown != code or organisation is None:
        return shown
    return organisation.name
