"""The editor page's JSON calls: a version's diagram and forms, checking a draft, saving it.

The diagram and forms come from the browser and are untrusted: the checks in
`workflows.methodology.editor` refuse entities, oversize files and scripts that leave the
sandbox, and a refused draft stores nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session

from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.editor.blueprint import bp, definition_or_404
from webui.json_body import UnfitBody, read_json_body
from workflows.methodology.editor import DraftRejected, EditorProblem, check_draft, save_draft
from workflows.methodology.pages import changes_from_active


def _problems_json(problems: list[EditorProblem]) -> list[dict[str, Any]]:
    return [asdict(problem) for problem in problems]


def _refused(message: str) -> ResponseReturnValue:
    """A request the editor page would never send: 400, said as one problem."""
    problem = {
        "message": message,
        "element_id": None,
        "file": None,
        "line": None,
        "severity": "error",
        "kind": "request",
    }
    return jsonify({"problems": [problem], "dry_run": [], "ok": False}), 400


def _draft_payload() -> tuple[str, dict[str, str]] | str:
    """The diagram and forms the page sent, or what is wrong with the request."""
    try:
        payload = read_json_body(request.get_data(cache=True)) if request.is_json else None
    except UnfitBody as err:
        return f"{err.field}: {err.message}"
    if not isinstance(payload, dict) or not isinstance(payload.get("xml"), str):
        return str(gettext('Send the diagram as JSON: {"xml": "...", "forms": {...}}.'))
    forms = payload.get("forms") or {}
    if not isinstance(forms, dict) or not all(
        isinstance(name, str) and isinstance(text, str) for name, text in forms.items()
    ):
        return str(gettext("Send the forms as a map of file name to the form's JSON text."))
    return payload["xml"], dict(forms)


@bp.get("/methodology/<process_key>/versions/<int:version>.json")
def bundle(process_key: str, version: int) -> ResponseReturnValue:
    """The version's diagram and forms, for the editor; with what it changes when not in force."""
    definition, xml, forms = definition_or_404(process_key, version)
    return jsonify(
        {
            "process_key": definition.process_key,
            "name": definition.name,
            "version": definition.version,
            "status": definition.status,
            "xml": xml,
            "forms": forms,
            "changes": changes_from_active(request_session(), definition),
        }
    )


@bp.post("/methodology/<process_key>/check")
def check(process_key: str) -> ResponseReturnValue:
    """Every problem of the draft and its dry run; nothing is stored."""
    payload = _draft_payload()
    if isinstance(payload, str):
        return _refused(payload)
    xml, forms = payload
    result = check_draft(request_session(), process_key, xml, forms, now=datetime.now(UTC))
    return jsonify(
        {
            "problems": _problems_json(result.problems),
            "dry_run": list(result.dry_run),
            "ok": result.ok,
        }
    )


@bp.post("/methodology/<process_key>/drafts")
def save(process_key: str) -> ResponseReturnValue:
    """Store the draft as a new version (201), or say why not (422) and store nothing."""
    person = require_person()
    payload = _draft_payload()
    if isinstance(payload, str):
        return _refused(payload)
    xml, forms = payload
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[int, list[str]]:
        draft = save_draft(session, process_key, xml, forms, actor=person.username, now=now)
        return draft.version, changes_from_active(session, draft)

    try:
        version, changes = unit_of_work(work)
    except DraftRejected as rejected:
        return jsonify(
            {"problems": _problems_json(rejected.problems), "dry_run": [], "ok": False}
        ), 422
    return jsonify(
        {
            "version": version,
            "changes": changes,
            "version_url": url_for("editor.version_page", process_key=process_key, version=version),
            "propose_url": url_for("editor.propose", process_key=process_key, version=version),
            "compare_url": url_for("editor.compare", process_key=process_key, to=version),
        }
    ), 201
