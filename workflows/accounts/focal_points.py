"""A member's focal points as people with a login.

The Secretariat "requests a focal point be nominated for official correspondence as well as
for attendance of the technical meetings of the Support Group" (`002_*`, 2.1); the member
names one per pillar it takes part in ("focal points in the following pillars of the Support
Group", the Annex). Each pillar's focal point becomes a person of the member with two roles:
focal point of the organisation in that pillar, and Support Group member of that pillar for
the organisation, which is what offers them the Support Group's tasks of the needs and
response mappings (and a WB partner's focal point its partner's tasks).

An address that already belongs to a person gives that person the roles (no second account);
a new address gets an invitation (a single-use link to set a password). The pillar's previous
focal point of the organisation gives the two roles back: "each IISG partner will designate
its point(s)-of-contact ... and inform ... of any subsequent changes" (`000_*`, 1.4.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from models import FocalPoint, Organisation, RoleGrant, User
from workflows.accounts.invitations import invitation_validity, invite_person
from workflows.mail.compose import enqueue
from workflows.people.management import HeldRole, PersonChange, change_person, held_roles
from workflows.people.roles import PILLARS, SECRETARIAT


def pillar_roles(organisation: str, pillar: str) -> tuple[HeldRole, HeldRole]:
    """The roles of an organisation's focal point in a pillar."""
    return HeldRole("focal_point", organisation, pillar), HeldRole(
        "support_group", organisation, pillar
    )


@dataclass(frozen=True)
class Appointed:
    """A focal point given their roles: who, and whether they were invited (a new login)."""

    username: str
    invited: bool


def _username_for(session: Session, email: str) -> str:
    """A free user name made of the address's local part: 'eva.novak', 'eva.novak-2'."""
    base = re.sub(r"[^a-z0-9._-]", "-", email.split("@")[0].lower()).strip("._-")[:56] or "fp"
    if len(base) < 2:
        base = f"fp-{base}"
    candidate, n = base, 1
    while session.scalars(select(User.id).where(User.username == candidate)).first() is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _person_with_address(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def _previous_holders(session: Session, organisation: str, pillar: str, but_not: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == "focal_point",
                RoleGrant.organisation == organisation,
                RoleGrant.pillar == pillar,
                User.id != but_not,
            )
        ).unique()
    )


def appoint_focal_point(
    session: Session,
    organisation: Organisation,
    pillar: str,
    *,
    name: str,
    email: str | None,
    field: str,
    actor: str,
    now: datetime,
) -> Appointed:
    """Make the person at `email` the organisation's focal point in `pillar` (inviting them
    when the address is new); the pillar's previous focal point gives the roles back.
    A mistake is `Refused` naming `field` (the form's address field)."""
    if pillar not in PILLARS:
        raise Refused(field, f"'{pillar}' is not a pillar; the pillars are {', '.join(PILLARS)}")
    address = (email or "").strip()
    if not address:
        raise Refused(
            field,
            f"give the e-mail address of the focal point for {pillar}: their invitation to "
            "IISG Procedures goes there",
        )
    wanted = pillar_roles(organisation.code, pillar)
    user = _person_with_address(session, address)
    if user is None:
        user = invite_person(
            session,
            _username_for(session, address),
            name=name,
            email=address,
            organisation=organisation.code,
            roles=wanted,
            actor=actor,
            now=now,
            valid=invitation_validity(),
        )
        invited = True
    else:
        _check_may_become_focal_point(user, organisation, address, field)
        roles = held_roles(user)
        change_person(
            session,
            user.username,
            PersonChange(
                organisation=organisation.code,
                roles=[*roles, *(r for r in wanted if r not in roles)],
            ),
            actor=actor,
            now=now,
        )
        if not all(r in roles for r in wanted):
            enqueue(
                session,
                user,
                subject=f"You are a focal point of {organisation.name} for {pillar}",
                body=(
                    f"Hello {user.display_name},\n\n"
                    f"{organisation.name} has named you its focal point for {pillar} "
                    f"({PILLARS[pillar]}) in the IISG. From the next needs and response "
                    "mapping on, the tasks of its focal point and of the Support Group in "
                    "this pillar are offered to you in IISG Procedures.\n"
                ),
                kind="account",
                now=now,
            )
        invited = False
    for previous in _previous_holders(session, organisation.code, pillar, but_not=user.id):
        change_person(
            session,
            previous.username,
            PersonChange(roles=[r for r in held_roles(previous) if r not in wanted]),
            actor=actor,
            now=now,
        )
    return Appointed(user.username, invited)


def _check_may_become_focal_point(
    user: User, organisation: Organisation, address: str, field: str
) -> None:
    if not user.active:
        raise Refused(
            field,
            f"{address} is the address of {user.display_name}, whose account is deactivated; "
            "ask the Secretariat to reactivate it, or name another focal point",
        )
    if user.organisation not in (None, organisation.code):
        raise Refused(
            field,
            f"{address} is the address of {user.display_name}, a person of another "
            f"organisation ({user.organisation}); a focal point speaks for their own "
            "organisation: name one of yours",
        )
    if any(g.role == SECRETARIAT for g in user.grants):
        raise Refused(
            field,
            f"{address} is the address of {user.display_name} of the IISG Secretariat; "
            "name a focal point of your own organisation",
        )


@dataclass(frozen=True)
class RegisteredFocalPoint:
    """A member's focal point for a pillar as the register holds it, with their login."""

    organisation: str
    organisation_name: str
    pillar: str
    name: str
    email: str | None
    username: str | None


def registered_focal_points(session: Session) -> list[RegisteredFocalPoint]:
    """Every member's focal point per pillar, by organisation and pillar."""
    rows = session.execute(
        select(FocalPoint, Organisation.name)
        .join(Organisation, Organisation.code == FocalPoint.organisation)
        .where(Organisation.is_member.is_(True), FocalPoint.kind.in_(PILLARS))
        .order_by(Organisation.name, FocalPoint.kind)
    ).all()
    holders = {
        (g.organisation, g.pillar): username
        for username, g in session.execute(
            select(User.username, RoleGrant)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == "focal_point")
        ).all()
    }
    return [
        RegisteredFocalPoint(
            row.organisation,
            name,
            row.kind,
            row.name,
            row.email,
            holders.get((row.organisation, row.kind)),
        )
        for row, name in rows
    ]


def change_focal_point(
    session: Session,
    organisation: str,
    pillar: str,
    *,
    name: str,
    email: str,
    position: str | None,
    actor: str,
    now: datetime,
) -> Appointed:
    """The Secretariat records the focal point a member named for a pillar (the partner
    informs it "of any subsequent changes", `000_*` 1.4.1): the register's row and the roles
    move to them, inviting them when their address is new. Audited."""
    member = session.get(Organisation, organisation) if organisation else None
    if member is None or not member.is_member:
        raise Refused("organisation", "choose an IISG member: only members name focal points")
    if pillar not in PILLARS:
        raise Refused("pillar", f"choose the pillar: {', '.join(PILLARS)}")
    name = " ".join(name.split())
    if not name:
        raise Refused("name", "give the focal point's name as it is shown to others")
    row = session.scalars(
        select(FocalPoint).where(FocalPoint.organisation == organisation, FocalPoint.kind == pillar)
    ).first()
    previous = (row.name, row.email) if row is not None else None
    appointed = appoint_focal_point(
        session, member, pillar, name=name, email=email, field="email", actor=actor, now=now
    )
    if row is None:
        row = FocalPoint(organisation=organisation, kind=pillar)
        session.add(row)
    row.name, row.email = name, email.strip()
    row.position = (position or "").strip() or None
    row.nominated_at = now
    row.instance_id = None
    session.flush()
    audit.record(
        session,
        kind="register.focal_point_changed",
        actor=actor,
        now=now,
        payload={
            "organisation": organisation,
            "pillar": pillar,
            "from": {"name": previous[0], "email": previous[1]} if previous else None,
            "to": {"name": name, "email": row.email, "username": appointed.username},
        },
    )
    return appointed
