"""The people pages (the Secretariat): the list with its filters, inviting a person, and one
person's page, where their details, roles and access change. Each change one unit of work;
a refusal is shown beside its field with what was typed kept."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import Refused
from models import User
from webui.auth.login import login_required_response, require_person
from webui.database import request_session, unit_of_work
from webui.settings import invitation_valid
from workflows.accounts.focal_points import change_focal_point, registered_focal_points
from workflows.accounts.invitations import invite_again, invite_person
from workflows.people.management import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    ROLE_KINDS,
    HeldRole,
    PeopleFilter,
    PersonChange,
    change_person,
    check_secretariat,
    held_roles,
    is_invited,
    list_people,
    organisation_name,
    person,
)
from workflows.people.organisations import board_seats, organisations
from workflows.people.roles import PILLARS, partner_name
from workflows.refusals import NoAccess, NoSuchThing

bp = Blueprint("people", __name__)
bp.before_request(login_required_response)

ACTIVE_CHOICES = {"yes": True, "no": False}


@bp.before_request
def _only_the_secretariat() -> None:
    try:
        check_secretariat(require_person().participant)
    except NoAccess as err:
        raise Forbidden(str(err)) from err


def _person(username: str) -> User:
    try:
        return person(request_session(), username)
    except NoSuchThing as err:
        raise NotFound(str(err)) from err


def _choices() -> dict[str, Any]:
    db = request_session()
    return {
        "role_kinds": ROLE_KINDS,
        "organisations": [(o.code, organisation_name(db, o.code)) for o in organisations(db)],
        "seats": [(seat.code, partner_name(seat.code)) for seat in board_seats(db)],
        "pillars": PILLARS,
        "name_length": NAME_LENGTH,
        "email_length": EMAIL_LENGTH,
    }


def _filter(db: Session, args: Mapping[str, str]) -> PeopleFilter:
    # The filters are choices on the page: a value not among them (typed into the address)
    # filters nothing, as an unknown role does.
    role = args.get("role") or None
    organisation = args.get("organisation") or None
    known = {found.code for found in organisations(db)}
    return PeopleFilter(
        role=role if role in ROLE_KINDS else None,
        organisation=organisation if organisation in known else None,
        active=ACTIVE_CHOICES.get(args.get("active", "")),
    )


@bp.get("/people")
def people() -> ResponseReturnValue:
    """Everyone with their organisation and roles, filtered by role, organisation, access."""
    db = request_session()
    chosen = _filter(db, request.args)
    found = list_people(db, chosen)
    rows = [
        {
            "user": user,
            "organisation": organisation_name(db, user.organisation),
            "roles": held_roles(user),
            "invited": is_invited(user),
        }
        for user in found
    ]
    return render_template(
        "people/list.html",
        rows=rows,
        chosen=request.args,
        **_choices(),
    )


def _role_from(form: Mapping[str, str], own: str | None) -> HeldRole:
    """The role a form names; a focal point's organisation is the person's own unless chosen."""
    kind = form.get("kind", "")
    if kind in ("board_member", "board_alternate"):
        organisation = form.get("seat") or None
    elif kind == "focal_point":
        organisation = form.get("role_organisation") or own
    else:
        organisation = None
    return HeldRole(kind, organisation, form.get("pillar") or None)


@bp.route("/people/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Invite a person: their details and a first role; they are mailed a link."""
    if request.method == "GET":
        return render_template("people/new.html", values={}, errors={}, **_choices())
    form = request.form
    actor = require_person().username
    roles = [_role_from(form, form.get("organisation") or None)] if form.get("kind") else []

    def work(db: Session) -> User:
        return invite_person(
            db,
            form.get("username", ""),
            name=form.get("name", ""),
            email=form.get("email", ""),
            organisation=form.get("organisation") or None,
            roles=roles,
            actor=actor,
            now=datetime.now(UTC),
            valid=invitation_valid(),
        )

    try:
        user = unit_of_work(work)
    except Refused as err:
        page = render_template("people/new.html", values=form, errors=err.errors, **_choices())
        return page, 422
    flash(
        gettext(
            "%(name)s is invited: a link to set their password is on its way to %(email)s.",
            name=user.display_name,
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("people.person_page", username=user.username))


def _render_person(
    user: User, *, values: Mapping[str, str] | None = None, errors: dict[str, str] | None = None
) -> str:
    db = request_session()
    return render_template(
        "people/person.html",
        person=user,
        organisation=organisation_name(db, user.organisation),
        roles=held_roles(user),
        invited=is_invited(user),
        values=values or {},
        errors=errors or {},
        **_choices(),
    )


@bp.get("/people/<username>")
def person_page(username: str) -> ResponseReturnValue:
    """One person: details, roles, access."""
    return _render_person(_person(username))


def _change(
    username: str, change: Callable[[User], PersonChange], done: str
) -> ResponseReturnValue:
    """Apply one change in one unit of work; the page again with the refusal if refused."""
    user = _person(username)
    actor = require_person().username

    def work(db: Session) -> None:
        change_person(
            db, username, change(person(db, username)), actor=actor, now=datetime.now(UTC)
        )

    try:
        unit_of_work(work)
    except Refused as err:
        request_session().expire_all()
        return _render_person(_person(user.username), values=request.form, errors=err.errors), 422
    flash(done, "success")
    return redirect(url_for("people.person_page", username=username))


@bp.post("/people/<username>")
def details(username: str) -> ResponseReturnValue:
    """Change the person's name, address and organisation."""
    form = request.form
    return _change(
        username,
        lambda _user: PersonChange(
            name=form.get("name", ""),
            email=form.get("email", ""),
            organisation=form.get("organisation") or None,
            no_organisation=not form.get("organisation"),
        ),
        gettext("The details are saved."),
    )


@bp.post("/people/<username>/roles")
def add_role(username: str) -> ResponseReturnValue:
    """Give the person one more role (a seat held by someone else moves to them)."""
    role = _role_from(request.form, _person(username).organisation)
    return _change(
        username,
        lambda user: PersonChange(roles=[*held_roles(user), role]),
        gettext("The role is given: %(role)s.", role=role.words),
    )


@bp.post("/people/<username>/roles/remove")
def remove_role(username: str) -> ResponseReturnValue:
    """Take one role from the person; what they had claimed under it returns to the pool."""
    role = HeldRole(
        request.form.get("kind", ""),
        request.form.get("organisation") or None,
        request.form.get("pillar") or None,
    )
    return _change(
        username,
        lambda user: PersonChange(roles=[r for r in held_roles(user) if r != role]),
        gettext("The role is taken away: %(role)s.", role=role.words),
    )


@bp.post("/people/<username>/active")
def access(username: str) -> ResponseReturnValue:
    """Deactivate the person (or let them in again)."""
    active = request.form.get("active") == "yes"
    done = (
        gettext("The person can log in again.")
        if active
        else gettext(
            "The person is deactivated: logged out everywhere, their API tokens stopped, "
            "the tasks they had claimed back with their role."
        )
    )
    return _change(username, lambda _user: PersonChange(active=active), done)


@bp.post("/people/<username>/invitation")
def invitation(username: str) -> ResponseReturnValue:
    """Mail a person who has not set their password a new invitation."""
    user = _person(username)
    actor = require_person().username
    try:
        unit_of_work(
            lambda db: invite_again(
                db, username, actor=actor, now=datetime.now(UTC), valid=invitation_valid()
            )
        )
    except Refused as err:
        return _render_person(user, errors=err.errors), 422
    flash(gettext("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("people.person_page", username=username))


def _render_focal_points(values: Mapping[str, str], errors: dict[str, str]) -> str:
    db = request_session()
    return render_template(
        "people/focal_points.html",
        rows=registered_focal_points(db),
        members=[(o.code, organisation_name(db, o.code)) for o in organisations(db) if o.is_member],
        pillars=[(code, f"{code}: {words}") for code, words in PILLARS.items()],
        values=values,
        errors=errors,
    )


@bp.route("/focal-points", methods=["GET", "POST"])
def focal_points() -> ResponseReturnValue:
    """The members' focal points per pillar; record the new one a member names."""
    if request.method == "GET":
        return _render_focal_points({}, {})
    form = request.form
    actor = require_person().username

    def work(db: Session) -> str:
        return change_focal_point(
            db,
            form.get("organisation", ""),
            form.get("pillar", ""),
            name=form.get("name", ""),
            email=form.get("email", ""),
            position=form.get("position"),
            actor=actor,
            now=datetime.now(UTC),
        ).username

    try:
        username = unit_of_work(work)
    except Refused as err:
        return _render_focal_points(form, err.errors), 422
    flash(
        gettext(
            "%(username)s is the focal point now; the previous one gave the pillar's roles back.",
            username=username,
        ),
        "success",
    )
    return redirect(url_for("people.focal_points"))
