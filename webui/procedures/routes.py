"""The procedure pages: catalogue, start form, instance page (with its diagram), overview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import EngineError, FormInvalid, StepFailed, UnknownProcess
from engine.instances.diagram_state import diagram_state
from models import ProcessInstance
from webui.auth.login import login_required_response, require_person
from webui.database import request_session, unit_of_work
from webui.forms_html import (
    ADD_ROW,
    errors_outside_fields,
    form_fields,
    form_time_zone,
    parse_submission,
    read_moments,
)
from webui.forms_html.fields import Choice, FormField
from webui.forms_html.groups import FieldGroup
from webui.settings import default_time_zone, documents_dir, max_upload_bytes, minimum_notice
from workflows.inbox.attaching import (
    document_fields,
    start_with_documents,
    upload_for_later,
    waiting_uploads,
)
from workflows.inbox.documents import Upload, check_upload, discard_upload, size_words
from workflows.methodology.pages import migration_offer
from workflows.people.roles import SECRETARIAT
from workflows.procedures.access import may_see_instance
from workflows.procedures.pages import (
    StartPage,
    catalogue,
    instance_page,
    may_start,
    running_overview,
    start_page,
)
from workflows.refusals import RequestRefused
from workflows.withdrawal.withdraw import may_withdraw_now

bp = Blueprint("procedures", __name__)
bp.before_request(login_required_response)

# bpmn-js as `npm ci` installs it (never committed); only its dist directory is served.
BPMN_JS_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "bpmn-js" / "dist"
VIEWER_SCRIPT = "bpmn-navigated-viewer.production.min.js"


def _bpmn_js_dir() -> Path:
    return Path(current_app.config.get("BPMN_JS_DIR") or BPMN_JS_DIR)


@bp.get("/procedures")
def procedures() -> ResponseReturnValue:
    """The catalogue: every procedure, what it is, and a start link where the person may."""
    person = require_person()
    rows = catalogue(request_session(), person.participant)
    return render_template("procedures/catalogue.html", procedures=rows)


def _start_page(process_key: str) -> StartPage:
    person = require_person()
    if not may_start(request_session(), person.participant, process_key):
        raise Forbidden(
            gettext(
                "You may not start this procedure: the Secretariat starts procedures, an "
                "applicant starts their own membership application, and a focal point or a "
                "Board member proposes an amendment to a methodology."
            )
        )
    try:
        return start_page(request_session(), person.participant, process_key)
    except UnknownProcess as err:
        raise NotFound(
            gettext("There is no procedure '%(key)s' to start.", key=process_key)
        ) from err


def _with_uploads(
    fields: list[FormField | FieldGroup], chosen: Mapping[str, list[int]]
) -> list[FormField | FieldGroup]:
    """The documents fields offer the person's uploads not attached yet, `chosen` ticked."""
    if not any(f.widget == "documents" for f in fields):
        return fields
    person = require_person()
    waiting = waiting_uploads(request_session(), person.participant.username)
    offered = tuple(
        Choice(str(d.id), f"{d.filename} ({size_words(d.size)}, SHA-256 {d.sha256[:12]}…)")
        for d in waiting
    )
    return [
        replace(f, choices=offered, value=" ".join(str(i) for i in chosen.get(f.name, [])))
        if isinstance(f, FormField) and f.widget == "documents"
        else f
        for f in fields
    ]


def _render_start(
    page: StartPage,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    add_row: str | None = None,
    problems: list[str] | None = None,
    chosen: Mapping[str, list[int]] | None = None,
) -> str:
    fields = form_fields(page.schema, values, errors, add_row)
    return render_template(
        "procedures/start.html",
        procedure=page.procedure,
        fields=_with_uploads(fields, chosen or {}),
        time_zone=form_time_zone(values, default_time_zone()),
        form_errors=errors_outside_fields(page.schema, errors or {}) + (problems or []),
    )


def _chosen_documents(page: StartPage) -> dict[str, list[int]]:
    """The uploads the person ticked, by documents field."""
    return {
        name: [int(v) for v in request.form.getlist(name) if v.isdigit() and len(v) < 10]
        for name in document_fields(page.schema)
    }


def _upload_documents(page: StartPage, chosen: dict[str, list[int]]) -> dict[str, str]:
    """Store the files chosen in each documents field as the person's uploads (in a unit of
    work of their own, so a start refused afterwards keeps them, ticked) and add their ids to
    `chosen`; the refusals by field, with nothing stored, if a file is not right."""
    person = require_person()
    checked: dict[str, list[Upload]] = {}
    errors: dict[str, str] = {}
    for name in chosen:
        for sent in request.files.getlist(name):
            if not sent.filename:
                continue  # the file input left empty
            try:
                upload = check_upload(sent.filename, sent.read(), max_bytes=max_upload_bytes())
            except RequestRefused as refused:
                errors[name] = gettext("Not uploaded: %(refused)s", refused=refused)
            else:
                checked.setdefault(name, []).append(upload)
    if errors or not checked:
        return errors
    directory, now = documents_dir(), datetime.now(UTC)

    def store(session: Session) -> dict[str, list[int]]:
        return {
            name: [
                upload_for_later(
                    session, upload, uploader=person.participant, now=now, directory=directory
                ).id
                for upload in uploads
            ]
            for name, uploads in checked.items()
        }

    try:
        stored = unit_of_work(store)
    except BaseException:
        for uploads in checked.values():
            for upload in uploads:
                discard_upload(directory, None, upload)
        raise
    for name, ids in stored.items():
        chosen[name] = chosen[name] + ids
    return {}


@bp.get("/procedures/<process_key>/start")
def start(process_key: str) -> ResponseReturnValue:
    """A procedure's start form."""
    return _render_start(_start_page(process_key))


@bp.post("/procedures/<process_key>/start")
def start_submit(process_key: str) -> ResponseReturnValue:
    """Start the procedure with the form's data; its instance page on success."""
    person = require_person()
    page = _start_page(process_key)
    chosen = _chosen_documents(page)
    if ADD_ROW in request.form:
        # "Add another row" without script: the same form again, one row longer, unsent;
        # the files chosen meanwhile are kept as the person's uploads, ticked.
        refused_files = _upload_documents(page, chosen)
        return _render_start(
            page, request.form, refused_files, add_row=request.form[ADD_ROW], chosen=chosen
        ), (400 if refused_files else 200)
    data = parse_submission(page.schema, request.form, default_time_zone())
    _read, unread = read_moments(page.schema, request.form, default_time_zone())
    refused_files = _upload_documents(page, chosen)
    if refused_files:
        return _render_start(page, request.form, refused_files, chosen=chosen), 400
    data.update({name: ids for name, ids in chosen.items() if ids})
    now = datetime.now(UTC)
    try:
        instance_id = unit_of_work(
            lambda s: (
                start_with_documents(
                    s, person.participant, process_key, data, now, notice=minimum_notice()
                ).id
            )
        )
    except FormInvalid as invalid:
        # A date and time that names no moment: the page says why in the picker's terms.
        errors = {**invalid.errors, **unread}
        return _render_start(page, request.form, errors, chosen=chosen), 400
    except StepFailed:
        raise  # a bug of the diagram: the error page says so, and the Secretariat is told
    except EngineError as refused:
        # The diagram refused to start; nothing was saved, and the message says what to do.
        return _render_start(page, request.form, problems=[str(refused)], chosen=chosen), 400
    flash(gettext("Started: %(procedure)s.", procedure=page.procedure.name), "success")
    return redirect(url_for("procedures.instance", instance_id=instance_id))


def _visible_instance(instance_id: int) -> ProcessInstance:
    person = require_person()
    session = request_session()
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(gettext("There is no procedure %(id)s.", id=instance_id))
    if not may_see_instance(session, person.participant, instance.id):
        raise Forbidden(gettext("This procedure is not one you started or have a task in."))
    return instance


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> ResponseReturnValue:
    """One procedure: its diagram, where it stands, what happened, its open tasks."""
    person = require_person()
    session = request_session()
    shown = _visible_instance(instance_id)
    page = instance_page(
        session,
        person.participant,
        shown,
        may_withdraw=may_withdraw_now(session, person.participant, shown),
    )
    return render_template(
        "procedures/instance.html",
        page=page,
        migration=migration_offer(session, person.participant, page.instance),
        viewer_installed=(_bpmn_js_dir() / VIEWER_SCRIPT).is_file(),
        viewer_script=VIEWER_SCRIPT,
        now=datetime.now(UTC),
    )


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
def diagram(instance_id: int) -> ResponseReturnValue:
    """The BPMN XML of the version the instance runs on."""
    xml = _visible_instance(instance_id).definition.bpmn_xml
    return Response(xml, mimetype="application/xml")


@bp.get("/instances/<int:instance_id>/state.json")
def state(instance_id: int) -> ResponseReturnValue:
    """The ids of the steps done and the steps current, for the diagram's highlights."""
    _visible_instance(instance_id)
    return jsonify(diagram_state(request_session(), instance_id).as_json())


@bp.get("/overview")
def overview() -> ResponseReturnValue:
    """The Secretariat's overview: every running procedure, its phase, and what is late."""
    person = require_person()
    if not person.participant.holds(SECRETARIAT):
        raise Forbidden(gettext("The overview of every procedure is for the Secretariat."))
    newest_first = request.args.get("order") != "oldest"
    now = datetime.now(UTC)
    rows = running_overview(request_session(), now, newest_first)
    return render_template(
        "procedures/overview.html", rows=rows, newest_first=newest_first, now=now
    )


@bp.get("/vendor/bpmn-js/<path:name>")
def bpmn_js(name: str) -> ResponseReturnValue:
    """bpmn-js's own files, from its dist directory only (404 for anything else)."""
    return send_from_directory(_bpmn_js_dir(), name)
