"""A procedure's documents and comments, from its task page: upload, download, comment.

Also the inbox's answers for "not yours to see" (403) and "file too large" (413).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from engine.errors import NotAllowed, TaskAlreadyDone
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.errors import render_error
from webui.inbox.queries import TaskPage, task_page
from webui.inbox.routes import bp, render_task
from webui.settings import documents_dir, max_upload_bytes
from workflows.inbox.comments import add_comment
from workflows.inbox.documents import (
    add_document,
    check_upload,
    discard_upload,
    document_to_download,
    size_words,
)
from workflows.procedures.access import check_may_open_or_follow, check_may_see_instance
from workflows.refusals import NoAccess, RequestRefused

# The task's form marks its posts with this field: a document or a comment sent with it (its
# buttons post the whole form, see _procedure_files.html) brings the page back as typed.
ANSWER_MARK = "_answer"


def _kept() -> str:
    return str(gettext("Your answer above is kept as you typed it; it is not submitted yet."))


def _answering() -> bool:
    return request.form.get(ANSWER_MARK) == "kept"


def _task_again(
    page: TaskPage, anchor: str, status: int = 200, **files: str
) -> ResponseReturnValue:
    """The task page again with everything posted kept: the answer as typed (when the post
    carried it), the comment being written, and what happened to the document or comment.

    Someone who takes part in the procedure but may not open this task (a Board member of
    another seat) is sent back to it with the message, as before: the page is not theirs."""
    try:
        following = check_may_open_or_follow(require_person().participant, page.task)
    except (NoAccess, NotAllowed, TaskAlreadyDone):
        for key, category in (
            ("upload_error", "error"),
            ("comment_error", "error"),
            ("uploaded", "success"),
            ("commented", "success"),
        ):
            if key in files:
                flash(files[key], category)
        return redirect(url_for("inbox.task", task_id=page.task.id, _anchor=anchor))
    files.setdefault("comment", request.form.get("text", ""))
    values = request.form if _answering() else None
    return render_task(page, values, following=following, files=files), status


@bp.post("/tasks/<int:task_id>/documents")
def upload(task_id: int) -> ResponseReturnValue:
    """Add a document to the task's procedure."""
    person = require_person()
    page = task_page(request_session(), task_id)
    instance_id = page.instance.id
    check_may_see_instance(request_session(), person.participant, instance_id)
    sent = request.files.get("document")
    directory = documents_dir()
    try:
        checked = check_upload(
            (sent.filename or "") if sent else "",
            sent.read() if sent else b"",
            max_bytes=max_upload_bytes(),
        )
    except RequestRefused as refused:
        words = gettext("Not uploaded: %(refused)s", refused=refused)
        return _task_again(page, "documents", 400, upload_error=words)
    now = datetime.now(UTC)
    try:
        document = unit_of_work(
            lambda s: add_document(
                s, instance_id, checked, uploader=person.participant, now=now, directory=directory
            )
        )
    except BaseException:
        discard_upload(directory, instance_id, checked)
        raise
    uploaded = gettext("Uploaded: %(name)s.", name=document.filename)
    if _answering():
        return _task_again(page, "documents", uploaded=f"{uploaded} {_kept()}")
    flash(uploaded, "success")
    return redirect(url_for("inbox.task", task_id=task_id, _anchor="documents"))


@bp.get("/documents/<int:document_id>")
def document(document_id: int) -> ResponseReturnValue:
    """Download a document, for those who may see its procedure."""
    person = require_person()
    found = document_to_download(
        request_session(), document_id, reader=person.participant, directory=documents_dir()
    )
    if found is None:
        raise NotFound(
            gettext("There is no such document, or its file is missing. Tell the Secretariat.")
        )
    row, path = found
    response = send_file(
        path, as_attachment=True, download_name=row.filename, max_age=0, etag=row.sha256
    )
    # The row holds the whole Content-Type, charset included ("text/plain; charset=utf-8");
    # given to send_file as a mimetype, Werkzeug would add a second charset.
    response.content_type = row.content_type
    return response


@bp.post("/tasks/<int:task_id>/comments")
def comment(task_id: int) -> ResponseReturnValue:
    """Add a comment to the task's procedure."""
    person = require_person()
    page = task_page(request_session(), task_id)
    text = request.form.get("text", "")
    now = datetime.now(UTC)
    try:
        unit_of_work(
            lambda s: add_comment(s, page.instance.id, text, author=person.participant, now=now)
        )
    except RequestRefused as refused:
        words = gettext("Not posted: %(refused)s", refused=refused)
        return _task_again(page, "comments", 400, comment_error=words)
    if _answering():
        return _task_again(
            page, "comments", comment="", commented=f"{gettext('Comment posted.')} {_kept()}"
        )
    flash(gettext("Comment posted."), "success")
    return redirect(url_for("inbox.task", task_id=task_id, _anchor="comments"))


def _no_access(err: NoAccess) -> ResponseReturnValue:
    return render_error(403, gettext("Not allowed"), str(err))


def _too_large(_err: RequestEntityTooLarge) -> ResponseReturnValue:
    return render_error(
        413,
        gettext("The file is too large"),
        gettext(
            "Files can be at most %(size)s. Nothing was uploaded. Go back and choose a "
            "smaller file, or split it.",
            size=size_words(max_upload_bytes()),
        ),
    )


bp.register_error_handler(NoAccess, _no_access)
bp.register_error_handler(RequestEntityTooLarge, _too_large)
bp.add_app_template_filter(size_words, "file_size")
