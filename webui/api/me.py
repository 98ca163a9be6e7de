"""`GET /api/v1/me`: whom the token acts as, so a client can check its token."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from webui.api.auth import api_person
from webui.api.blueprint import bp


@bp.get("/me")
def me() -> ResponseReturnValue:
    """The token's user: user name, name shown, and the roles they hold (with scope)."""
    person = api_person()
    grants = sorted(
        person.participant.grants,
        key=lambda grant: (grant.role, grant.organisation or "", grant.pillar or ""),
    )
    return jsonify(
        username=person.username,
        display_name=person.display_name,
        roles=[
            {"role": g.role, "organisation": g.organisation, "pillar": g.pillar} for g in grants
        ],
    )
