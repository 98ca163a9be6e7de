"""The API's people (the Secretariat): `GET/POST /people`, `GET/PATCH /people/{username}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from jsonschema import Draft202012Validator

from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import BadRequestBody, json_object
from webui.database import request_session, unit_of_work
from webui.settings import invitation_valid
from workflows.api.contract import SCHEMAS, as_json, json_schemas
from workflows.api.people import (
    NewPerson,
    PersonPatch,
    invite,
    patch_person,
    people_list,
    person_detail,
)
from workflows.people.management import PeopleFilter, check_secretariat


def _checked(shape: type) -> dict[str, Any]:
    """The request's JSON body, checked against the shape's schema; BadRequestBody naming
    the first field that does not fit."""
    body = json_object(shape)
    schema = {
        "$ref": SCHEMAS + shape.__name__,
        "components": {"schemas": json_schemas(shape)},
    }
    for error in Draft202012Validator(schema).iter_errors(body):
        field = ".".join(str(part) for part in error.absolute_path) or "body"
        raise BadRequestBody(field, error.message)
    return body


@api.get("/people")
def people() -> ResponseReturnValue:
    """People with their organisation and roles; filters: role, organisation, active."""
    active = request.args.get("active")
    where = PeopleFilter(
        role=request.args.get("role") or None,
        organisation=request.args.get("organisation") or None,
        active=None if active is None else active == "true",
    )
    return jsonify(as_json(people_list(request_session(), api_person().participant, where)))


@api.post("/people")
def invite_person() -> ResponseReturnValue:
    """Invite a person: 201, the person, and their invitation mailed."""
    actor = api_person().participant
    check_secretariat(actor)
    body = _checked(NewPerson)
    now, valid = datetime.now(UTC), invitation_valid()
    created = unit_of_work(lambda s: invite(s, actor, body, now=now, valid=valid))
    location = url_for("api.person", username=created.username)
    return jsonify(as_json(created)), 201, {"Location": location}


@api.get("/people/<username>")
def person(username: str) -> ResponseReturnValue:
    """One person."""
    return jsonify(as_json(person_detail(request_session(), api_person().participant, username)))


@api.patch("/people/<username>")
def change(username: str) -> ResponseReturnValue:
    """Change a person's name, address, organisation, roles or access."""
    actor = api_person().participant
    check_secretariat(actor)
    body = _checked(PersonPatch)
    now = datetime.now(UTC)
    return jsonify(as_json(unit_of_work(lambda s: patch_person(s, actor, username, body, now=now))))
