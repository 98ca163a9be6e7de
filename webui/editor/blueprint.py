"""The editor's blueprint: every page and every API call is the Secretariat's alone."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import EngineError
from models import ProcessDefinition
from webui.auth.login import login_required_response, require_person
from webui.database import request_session
from webui.procedures.routes import BPMN_JS_DIR
from workflows.methodology.editor import editable_bundle
from workflows.people.roles import SECRETARIAT

bp = Blueprint("editor", __name__)

NOT_THE_SECRETARIAT = lazy_gettext(
    "The methodology's diagrams are kept by the Secretariat. Your roles do not include it."
)
MODELER_SCRIPT = "bpmn-modeler.development.js"
VIEWER_SCRIPT = "bpmn-navigated-viewer.production.min.js"


def _secretariat_only() -> None:
    # Runs after the login check, so there is a person; anyone else gets the 403 page,
    # for the JSON calls too (they are never used by anyone but the editor page).
    if not require_person().participant.holds(SECRETARIAT):
        raise Forbidden(str(NOT_THE_SECRETARIAT))


bp.before_request(login_required_response)
bp.before_request(_secretariat_only)


def bpmn_js_installed(script: str) -> bool:
    """Whether bpmn-js (installed by npm, never committed) has `script` on this server."""
    directory = Path(current_app.config.get("BPMN_JS_DIR") or BPMN_JS_DIR)
    return (directory / script).is_file()


def definition_or_404(
    process_key: str, version: int | None
) -> tuple[ProcessDefinition, str, dict[str, str]]:
    """The version (by default the newest draft, else the one in force), its XML and forms;
    404 when there is none."""
    try:
        return editable_bundle(request_session(), process_key, version)
    except (EngineError, LookupError) as err:
        raise NotFound(
            gettext(
                "There is no version %(version)s of '%(key)s'.", version=version, key=process_key
            )
            if version is not None
            else gettext("There is no procedure '%(key)s' in the methodology.", key=process_key)
        ) from err
