"""Who calls the API: the user of the bearer token, with their roles and nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from webui.api.problems import problem
from webui.auth.login import Person
from webui.database import one_statement
from workflows.people.tokens import authenticate_token

# The one address anyone may read: what the API offers says nothing about anybody.
PUBLIC = {("GET", "/api/v1/openapi.json"), ("HEAD", "/api/v1/openapi.json")}
CHALLENGE = 'Bearer realm="iisg"'


def bearer_secret() -> str | None:
    """The token the request carries in `Authorization: Bearer <token>`, if any."""
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _unauthorized(detail: str | None = None) -> ResponseReturnValue:
    response = problem(401, detail=detail)
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def authenticate_request() -> ResponseReturnValue | None:
    """A before-request hook: 401 unless the request carries a valid token."""
    if (request.method, request.path) in PUBLIC:
        return None
    secret = bearer_secret()
    if secret is None:
        return _unauthorized()
    now = datetime.now(UTC)

    def work(connection: Connection) -> Person | None:
        holder = authenticate_token(connection, secret, now=now)
        if holder is None:
            return None
        return Person(holder.user_id, holder.username, holder.display_name, holder.participant)

    # One read, and once a minute one single-row write of the token's last use.
    person = one_statement(work)
    if person is None:
        return _unauthorized(
            "This token is not valid: it is unknown, revoked or expired, or its user was "
            "deactivated. Create a new one on the 'API tokens' page of your account."
        )
    g.api_person = person
    return None


def api_person() -> Person:
    """The person the request's token belongs to; only under the authenticated blueprint."""
    person: Person | None = g.get("api_person")
    if person is None:
        raise RuntimeError("this view needs an authenticated API request")
    return person
