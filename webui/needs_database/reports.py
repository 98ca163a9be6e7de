"""Approved reports for members (with the Secretariat's draft and upload), and the public
page of the published needs reports and summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import NotAllowed
from models import Report
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.needs_database.blueprint import bp, public_bp
from webui.settings import documents_dir, max_upload_bytes
from workflows.inbox.documents import Upload, discard_upload, size_words
from workflows.needs_database.reports import (
    check_report_upload,
    draft_report_docx,
    public_reports,
    reports,
    upload_report,
)
from workflows.needs_database.terms import REPORT_KINDS
from workflows.people.roles import PILLARS, SECRETARIAT
from workflows.refusals import RequestRefused

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOT_THE_SECRETARIAT = lazy_gettext(
    "Drafting and uploading reports is for the Secretariat. Your roles do not include it."
)


def _check_secretariat() -> None:
    if not require_person().participant.holds(SECRETARIAT):
        raise Forbidden(str(NOT_THE_SECRETARIAT))


@bp.get("/reports")
def report_list() -> ResponseReturnValue:
    """The reports per pillar and year: summary, approving decision, documents."""
    person = require_person()
    secretariat = person.participant.holds(SECRETARIAT)
    return render_template(
        "database/reports.html",
        reports=reports(request_session(), viewer=person.participant),
        secretariat=secretariat,
        kinds=REPORT_KINDS,
        pillars=PILLARS,
        this_year=datetime.now(UTC).year,
        max_upload=size_words(max_upload_bytes()),
    )


def _draft_choice() -> tuple[str, str, int]:
    kind = request.args.get("kind", "")
    pillar = request.args.get("pillar", "")
    raw_year = request.args.get("year", "")
    if kind not in REPORT_KINDS or pillar not in PILLARS or not raw_year.isdigit():
        raise NotFound(
            gettext("Choose the kind of report, the pillar and the year from the lists.")
        )
    return kind, pillar, int(raw_year)


@bp.get("/reports/draft.docx")
def draft() -> ResponseReturnValue:
    """The draft report generated from the collected inputs, to edit in a word processor."""
    _check_secretariat()
    kind, pillar, year = _draft_choice()
    body = draft_report_docx(
        request_session(), kind, pillar, year, viewer=require_person().participant
    )
    name = f"iisg-{kind.replace('_', '-')}-{pillar}-{year}-draft.docx"
    return Response(
        body, mimetype=DOCX_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/reports/<int:report_id>/document")
def upload(report_id: int) -> ResponseReturnValue:
    """Upload the edited report (.docx); refused in words if the file is not right."""
    _check_secretariat()
    viewer = require_person().participant
    if request_session().get(Report, report_id) is None:
        raise NotFound(gettext("There is no such report in the IISG database."))
    sent = request.files.get("document")
    filename = (sent.filename or "") if sent else ""
    try:
        checked = check_report_upload(filename, sent.read() if sent else b"")
    except RequestRefused as refused:
        flash(gettext("Not uploaded: %(refused)s", refused=refused), "error")
        return redirect(url_for("database.report_list", _anchor=f"report-{report_id}"))
    directory = documents_dir()
    try:
        unit_of_work(
            lambda s: upload_report(
                s, report_id, checked, viewer=viewer, now=datetime.now(UTC), directory=directory
            )
        )
    except (RequestRefused, NotAllowed) as refused:
        _discard(directory, report_id, checked)
        flash(gettext("Not uploaded: %(refused)s", refused=refused), "error")
        return redirect(url_for("database.report_list", _anchor=f"report-{report_id}"))
    except BaseException:
        _discard(directory, report_id, checked)
        raise
    flash(gettext("The edited report is uploaded: %(name)s.", name=filename), "success")
    return redirect(url_for("database.report_list", _anchor=f"report-{report_id}"))


def _discard(directory: Path, report_id: int, upload: Upload) -> None:
    """Remove the file of an upload whose record was not saved (if it was written at all)."""
    found = request_session().get(Report, report_id)
    if found is not None and found.instance_id is not None:
        discard_upload(directory, found.instance_id, upload)


@public_bp.get("/public")
def public() -> ResponseReturnValue:
    """The needs reports and the summaries the Board approved for publication, readable by
    anyone."""
    return render_template(
        "database/public.html", published=public_reports(request_session()), pillars=PILLARS
    )
