"""The database's blueprints: members only under /database, and the public page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext
from werkzeug.exceptions import Forbidden

from webui.auth.login import current_person, login_required_response, require_person
from webui.database import request_session
from workflows.needs_database.access import reads_database
from workflows.needs_database.terms import SUB_PILLAR_TITLES, term_words
from workflows.people.roles import partner_name

bp = Blueprint("database", __name__, url_prefix="/database")
# No login, no form: only what the Board approved for publication.
public_bp = Blueprint("public", __name__)

NOT_A_MEMBER = lazy_gettext(
    "The IISG database is for IISG members and the Secretariat. Your roles do not include it."
)


@bp.before_request
def _members_only() -> ResponseReturnValue | None:
    refused = login_required_response()
    if refused is not None:
        return refused
    if not reads_database(request_session(), require_person().participant):
        raise Forbidden(str(NOT_A_MEMBER))
    return None


@bp.app_template_filter("sub_pillar_name")
def sub_pillar_name(code: str | None) -> str:
    """A sub-pillar's code as its title: legal_framework -> Legal framework."""
    return SUB_PILLAR_TITLES.get(code or "", code or "")


@bp.app_template_filter("term")
def _term(code: str | None) -> str:
    """A need's status, kind or perspective, a response's period or status, in words."""
    return term_words(code)


@bp.app_template_filter("partner_name")
def _partner_name(code: str | None) -> str:
    return partner_name(code)


@bp.app_context_processor
def _database_navigation() -> dict[str, Any]:
    # The navigation links to the database only for those who may read it.
    person = current_person()
    return {
        "reads_database": person is not None
        and reads_database(request_session(), person.participant)
    }
