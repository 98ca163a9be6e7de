"""The API's people (the Secretariat): listing them, inviting one, reading and changing one,
in the shapes below (the OpenAPI document's schemas are made from them), through the same
rules as the people pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import User
from workflows.accounts.invitations import invite_person
from workflows.api.contract import described
from workflows.people.management import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    ROLE_KINDS,
    USERNAME_PATTERN,
    HeldRole,
    PeopleFilter,
    PersonChange,
    change_person,
    check_secretariat,
    held_roles,
    is_invited,
    list_people,
    person,
)
from workflows.people.roles import PILLARS

# PostgreSQL stores no NUL character in text (webui/json_body.py refuses it in any body).
NO_NUL = "^[^\\u0000]*$"
ROLE_KIND = described("The role", enum=list(ROLE_KINDS))
SCOPE_CODE = described(
    "The Board seat (Board member, alternate) or organisation (focal point) code",
    minLength=1,
    maxLength=32,
    pattern=NO_NUL,
)
PILLAR = described("The pillar (focal point, Support Group member)", enum=list(PILLARS))


@dataclass
class PersonRole:
    """A role the Secretariat gives: a seat's Board member or alternate, a focal point of an
    organisation and pillar, a Support Group member of a pillar, the Secretariat, an observer."""

    role: Annotated[str, ROLE_KIND]
    organisation: Annotated[str | None, SCOPE_CODE] = None
    pillar: Annotated[str | None, PILLAR] = None


@dataclass
class Person:
    """A person with an account: who they are, their organisation, roles and access."""

    username: Annotated[str, described("What they log in with")]
    name: Annotated[str, described("Their name as shown")]
    email: Annotated[str | None, described("Their e-mail address")]
    organisation: Annotated[str | None, described("The code of the organisation they are of")]
    roles: list[PersonRole]
    active: Annotated[bool, described("False once deactivated: no login, no API token")]
    invited: Annotated[bool, described("True while they have not set their first password")]


@dataclass
class PersonList:
    """People, by name."""

    people: list[Person]


@dataclass
class NewPerson:
    """A person to invite: they are mailed a link to set their password."""

    username: Annotated[
        str, described("What they will log in with", pattern=USERNAME_PATTERN, maxLength=64)
    ]
    name: Annotated[
        str, described("Their name as shown", minLength=1, maxLength=NAME_LENGTH, pattern=NO_NUL)
    ]
    email: Annotated[
        str, described("Their e-mail address", minLength=3, maxLength=EMAIL_LENGTH, pattern=NO_NUL)
    ]
    organisation: Annotated[
        str | None, described("The code of their organisation", maxLength=32, pattern=NO_NUL)
    ] = None
    roles: list[PersonRole] | None = None


@dataclass
class PersonPatch:
    """What to change of a person; a field left out stays as it is. `roles` replaces them all;
    `organisation` "" means none."""

    name: Annotated[
        str | None, described("Their name", minLength=1, maxLength=NAME_LENGTH, pattern=NO_NUL)
    ] = None
    email: Annotated[
        str | None,
        described("Their e-mail address", minLength=3, maxLength=EMAIL_LENGTH, pattern=NO_NUL),
    ] = None
    organisation: Annotated[
        str | None, described("The code of their organisation", maxLength=32, pattern=NO_NUL)
    ] = None
    roles: list[PersonRole] | None = None
    active: Annotated[bool | None, described("False deactivates, true lets in again")] = None


def person_data(user: User) -> Person:
    """A person as the API shows them."""
    return Person(
        username=user.username,
        name=user.display_name,
        email=user.email,
        organisation=user.organisation,
        roles=[PersonRole(r.kind, r.organisation, r.pillar) for r in held_roles(user)],
        active=user.active,
        invited=is_invited(user),
    )


def people_list(session: Session, actor: Participant, where: PeopleFilter) -> PersonList:
    """The people the filter lets through (the Secretariat only)."""
    check_secretariat(actor)
    return PersonList([person_data(user) for user in list_people(session, where)])


def person_detail(session: Session, actor: Participant, username: str) -> Person:
    """One person (the Secretariat only); NoSuchThing when there is none."""
    check_secretariat(actor)
    return person_data(person(session, username))


def held(roles: list[dict[str, Any]]) -> list[HeldRole]:
    """Roles as the API's body gives them (already checked against PersonRole's shape)."""
    return [HeldRole(r["role"], r.get("organisation"), r.get("pillar")) for r in roles]


def invite(
    session: Session,
    actor: Participant,
    body: dict[str, Any],
    *,
    now: datetime,
    valid: timedelta,
) -> Person:
    """Invite a person (the Secretariat only): created, and mailed their link."""
    check_secretariat(actor)
    user = invite_person(
        session,
        body["username"],
        name=body["name"],
        email=body["email"],
        organisation=body.get("organisation"),
        roles=held(body.get("roles") or []),
        actor=actor.username,
        now=now,
        valid=valid,
    )
    return person_data(user)


def patch_person(
    session: Session, actor: Participant, username: str, body: dict[str, Any], *, now: datetime
) -> Person:
    """Change a person (the Secretariat only)."""
    check_secretariat(actor)
    has_organisation = "organisation" in body
    change = PersonChange(
        name=body.get("name"),
        email=body.get("email"),
        organisation=body.get("organisation") or None,
        no_organisation=has_organisation and not body["organisation"],
        roles=held(body["roles"]) if body.get("roles") is not None else None,
        active=body.get("active"),
    )
    return person_data(change_person(session, username, change, actor=actor.username, now=now))
