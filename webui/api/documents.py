"""The API's documents: upload a file before the procedure it goes with is started, and
download a file of a procedure the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue

from engine.errors import NotAllowed, Refused
from webui.api.auth import api_person
from webui.api.blueprint import bp as api
from webui.api.refusals import ID, BadRequestBody
from webui.database import request_session, unit_of_work
from webui.settings import documents_dir, max_upload_bytes
from workflows.api.contract import as_json
from workflows.api.views import document_data
from workflows.inbox.attaching import upload_for_later
from workflows.inbox.documents import check_upload, discard_upload, document_to_download
from workflows.people.roles import SECRETARIAT
from workflows.refusals import NoAccess, NoSuchThing, RequestRefused

FILE_FIELD = "file"
UPLOAD_REFUSAL = (
    "Uploading documents is for the Secretariat, who launch the Board's decisions with them."
)


@api.post("/documents")
def upload() -> ResponseReturnValue:
    """Upload one file (multipart/form-data, field `file`); 201 with its id, to be named in
    the `documents` of a start's data."""
    participant = api_person().participant
    if not participant.holds(SECRETARIAT):
        raise NotAllowed(UPLOAD_REFUSAL)
    sent = request.files.get(FILE_FIELD)
    if sent is None:
        raise BadRequestBody(
            FILE_FIELD, "send the file as multipart/form-data in a field named 'file'"
        )
    try:
        checked = check_upload(sent.filename or "", sent.read(), max_bytes=max_upload_bytes())
    except RequestRefused as refused:
        raise Refused(FILE_FIELD, str(refused)) from refused
    directory, now = documents_dir(), datetime.now(UTC)
    try:
        document = unit_of_work(
            lambda s: document_data(
                upload_for_later(s, checked, uploader=participant, now=now, directory=directory)
            )
        )
    except BaseException:
        discard_upload(directory, None, checked)
        raise
    location = url_for("api.document", document_id=document.id)
    return jsonify(as_json(document)), 201, {"Location": location}


@api.get(f"/documents/<{ID}:document_id>")
def document(document_id: int) -> ResponseReturnValue:
    """A document's bytes, for those who may see its procedure (404 for anyone else)."""
    participant = api_person().participant
    try:
        found = document_to_download(
            request_session(), document_id, reader=participant, directory=documents_dir()
        )
    except NoAccess:
        found = None
    if found is None:
        # The same answer whether it does not exist or is not the caller's to see.
        raise NoSuchThing(f"There is no document {document_id} that you may read.")
    row, path = found
    response = send_file(
        path, as_attachment=True, download_name=row.filename, max_age=0, etag=row.sha256
    )
    # The row holds the whole Content-Type, charset included (see the inbox's download).
    response.content_type = row.content_type
    return response
