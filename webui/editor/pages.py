"""The methodology pages: every procedure, one procedure's versions, one version, comparing
two versions, the editor page itself, and proposing a draft to the Board."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from engine.diagrams.bpmn import SHOWS
from engine.errors import EngineError
from models import ProcessDefinition
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.editor.blueprint import (
    MODELER_SCRIPT,
    VIEWER_SCRIPT,
    bp,
    bpmn_js_installed,
    definition_or_404,
)
from workflows.methodology.editor import (
    DraftRejected,
    VersionEntry,
    changes_between,
    editable_bundle,
    import_draft,
    problem_text,
    propose_draft,
    version_history,
)
from workflows.methodology.pages import (
    active_version,
    change_sections,
    changes_from_active,
    methodology_catalogue,
)
from workflows.people.roles import ROLES

SUMMARY_LENGTH = 20000  # methodology_amendment_start.json: proposal_summary


def _history(process_key: str) -> list[VersionEntry]:
    entries = version_history(request_session(), process_key)
    if not entries:
        raise NotFound(
            gettext("There is no procedure '%(key)s' in the methodology.", key=process_key)
        )
    return entries


def _version_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as err:
        raise NotFound(gettext("'%(raw)s' is not a version number.", raw=raw)) from err


@bp.get("/methodology")
def methodology() -> ResponseReturnValue:
    """Every procedure with the version in force and its drafts."""
    return render_template(
        "editor/methodology.html", procedures=methodology_catalogue(request_session())
    )


@bp.get("/methodology/<process_key>")
def history(process_key: str) -> ResponseReturnValue:
    """One procedure's versions: who drafted each, its status, the decision that adopted it."""
    entries = _history(process_key)  # the newest first
    definition, _xml, _forms = definition_or_404(process_key, entries[0].version)
    return render_template(
        "editor/history.html",
        process_key=process_key,
        name=definition.name,
        entries=entries,
        active=active_version(request_session(), process_key),
    )


@bp.get("/methodology/<process_key>/versions/<int:version>")
def version_page(process_key: str, version: int) -> ResponseReturnValue:
    """One version: its facts and its diagram, with links to download, edit and compare."""
    definition, _xml, forms = definition_or_404(process_key, version)
    entry = next(e for e in _history(process_key) if e.version == version)
    return render_template(
        "editor/version.html",
        definition=definition,
        entry=entry,
        forms=sorted(forms),
        active=active_version(request_session(), process_key),
        viewer_installed=bpmn_js_installed(VIEWER_SCRIPT),
        viewer_script=VIEWER_SCRIPT,
    )


@bp.get("/methodology/<process_key>/versions/<int:version>.bpmn")
def download(process_key: str, version: int) -> ResponseReturnValue:
    """The version's BPMN XML, as a file to keep."""
    _definition_row, xml, _forms = definition_or_404(process_key, version)
    return Response(
        xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{process_key}-v{version}.bpmn"'},
    )


@bp.get("/methodology/<process_key>/compare")
def compare(process_key: str) -> ResponseReturnValue:
    """Two versions: the change list in words, and both diagrams with the changes marked."""
    entries = _history(process_key)  # the newest first
    in_force = active_version(request_session(), process_key)
    to_version = _version_arg("to") or entries[0].version
    from_version = _version_arg("from") or in_force or entries[-1].version
    old, _old_xml, _old_forms = definition_or_404(process_key, from_version)
    new, _new_xml, _new_forms = definition_or_404(process_key, to_version)
    changes = changes_between(old, new)
    marks = changes.element_ids
    changed = sorted(marks.changed)
    return render_template(
        "editor/compare.html",
        process_key=process_key,
        name=new.name,
        old=old,
        new=new,
        sections=change_sections(changes),
        old_markers={"removed": sorted(marks.removed), "changed": changed},
        new_markers={"added": sorted(marks.added), "changed": changed},
        versions=sorted(e.version for e in entries),
        viewer_installed=bpmn_js_installed(VIEWER_SCRIPT),
        viewer_script=VIEWER_SCRIPT,
    )


@bp.get("/methodology/<process_key>/edit")
def edit(process_key: str) -> ResponseReturnValue:
    """The diagram editor, opened on the version asked for (the one in force by default)."""
    definition, _xml, _forms = definition_or_404(process_key, _version_arg("version"))
    return render_template(
        "editor/edit.html",
        definition=definition,
        roles=list(ROLES.values()),
        shows=list(SHOWS.items()),
        modeler_installed=bpmn_js_installed(MODELER_SCRIPT),
        modeler_script=MODELER_SCRIPT,
        summary_length=SUMMARY_LENGTH,
    )


def _render_import(
    definition: ProcessDefinition, problems: list[str] | None = None, filename: str = ""
) -> str:
    return render_template(
        "editor/import.html", definition=definition, problems=problems or [], filename=filename
    )


@bp.get("/methodology/<process_key>/import")
def import_form(process_key: str) -> ResponseReturnValue:
    """Choose a diagram file saved by another modeler, to become a draft of this procedure."""
    definition, _xml, _forms = definition_or_404(process_key, None)
    return _render_import(definition)


@bp.post("/methodology/<process_key>/import")
def import_file(process_key: str) -> ResponseReturnValue:
    """The file becomes a new draft when every check passes; else its problems, as
    `iisg validate` says them, and nothing stored."""
    person = require_person()
    definition, _xml, _forms = definition_or_404(process_key, None)
    upload = request.files.get("diagram")
    if upload is None or not upload.filename:
        return _render_import(
            definition, [gettext("Choose the diagram file to import (.bpmn or .xml).")]
        ), 400
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    content = upload.read()
    now = datetime.now(UTC)

    def work(session: Session) -> int:
        draft = import_draft(
            session, process_key, filename, content, actor=person.username, now=now
        )
        return draft.version

    try:
        version = unit_of_work(work)
    except DraftRejected as rejected:
        problems = [problem_text(p) for p in rejected.problems if p.severity == "error"]
        return _render_import(definition, problems, filename), 422
    flash(
        gettext(
            "%(file)s is saved as draft version %(version)s of %(name)s. Nothing changes for "
            "anyone until the Board adopts it.",
            file=filename,
            version=version,
            name=definition.name,
        ),
        "success",
    )
    return redirect(url_for("editor.version_page", process_key=process_key, version=version), 303)


def _render_propose(
    definition: ProcessDefinition, summary: str, problems: list[str] | None = None
) -> str:
    return render_template(
        "editor/propose.html",
        definition=definition,
        changes=changes_from_active(request_session(), definition),
        summary=summary,
        problems=problems or [],
        summary_length=SUMMARY_LENGTH,
    )


@bp.get("/methodology/<process_key>/versions/<int:version>/propose")
def propose_form(process_key: str, version: int) -> ResponseReturnValue:
    """A draft's change list, and the summary the Board will read, to put it to the Board."""
    definition, _xml, _forms = definition_or_404(process_key, version)
    changes = changes_from_active(request_session(), definition)
    return _render_propose(definition, "\n".join(changes))


@bp.post("/methodology/<process_key>/versions/<int:version>/propose")
def propose(process_key: str, version: int) -> ResponseReturnValue:
    """Start the amendment procedure for the draft; its page, where the Board's decision shows."""
    person = require_person()
    definition, _xml, _forms = definition_or_404(process_key, version)
    summary = request.form.get("summary", "").strip()
    problems: list[str] = []
    if not summary:
        problems.append(gettext("Say what changes, in words the Board reads."))
    elif len(summary) > SUMMARY_LENGTH:
        problems.append(
            gettext("The summary is too long: %(most)s characters at most.", most=SUMMARY_LENGTH)
        )
    if problems:
        return _render_propose(definition, summary, problems), 400
    now = datetime.now(UTC)

    def work(session: Session) -> int:
        draft, _draft_xml, _draft_forms = editable_bundle(session, process_key, version)
        return propose_draft(session, draft, person.participant, summary, now=now).id

    try:
        instance_id = unit_of_work(work)
    except (EngineError, ValueError) as refused:
        message = str(refused)
        return _render_propose(definition, summary, [message[:1].upper() + message[1:]]), 400
    flash(
        gettext(
            "Version %(version)s of %(name)s is proposed to the Board.",
            version=version,
            name=definition.name,
        ),
        "success",
    )
    return redirect(url_for("procedures.instance", instance_id=instance_id), 303)
