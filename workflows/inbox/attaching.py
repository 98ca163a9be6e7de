"""Documents uploaded before their procedure exists: the Secretariat uploads the files of a
Board decision first, then starts it naming them, and the start attaches them in its own
transaction. Until a start attaches it, a document is its uploader's alone: only they see
it, and only they may attach it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from engine.instances.assignment import Participant
from engine.instances.steps import active_definition, start_form
from models import Document, ProcessInstance
from workflows.inbox.documents import Upload, store_document
from workflows.procedures.pages import start_procedure

# A start form marks each list of document ids with this keyword: the start attaches them.
DOCUMENTS_KEYWORD = "documentUpload"
DOCUMENTS_FIELD = "documents"


def upload_for_later(
    session: Session, upload: Upload, *, uploader: Participant, now: datetime, directory: Path
) -> Document:
    """Store a checked upload that belongs to no procedure yet, as the uploader's own."""
    return store_document(
        session, None, upload, uploaded_by=uploader.username, now=now, directory=directory
    )


def waiting_uploads(session: Session, username: str) -> list[Document]:
    """The documents a person uploaded and has not attached to a procedure yet, oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.instance_id.is_(None), Document.uploaded_by == username)
            .order_by(Document.uploaded_at, Document.id)
        )
    )


def document_fields(schema: dict[str, Any] | None) -> list[str]:
    """The fields of a form that list document ids to attach."""
    properties = (schema or {}).get("properties", {})
    return [
        name
        for name, prop in properties.items()
        if isinstance(prop, dict) and prop.get(DOCUMENTS_KEYWORD)
    ]


def _not_yours(document_id: object) -> str:
    # The same words whether the document does not exist, is someone else's or is attached
    # elsewhere: nobody learns of another person's files.
    return (
        f"there is no document {document_id} among the files you uploaded and have not "
        "attached to a procedure yet; upload the file first and give the id it got"
    )


def _ids(value: Any, field: str) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise Refused(field, "give the documents as the ids their upload answered")
    if len(set(value)) != len(value):
        raise Refused(field, "a document is listed twice; list each one once")
    return list(value)


def check_attachable(session: Session, value: Any, *, owner: str, field: str) -> list[int]:
    """The ids in `value`, each a document `owner` uploaded and has not attached yet; Refused
    naming `field` if not. Nothing is written."""
    ids = _ids(value, field)
    for document_id in ids:
        document = session.get(Document, document_id)
        if document is None or document.instance_id is not None or document.uploaded_by != owner:
            raise Refused(field, _not_yours(document_id))
    return ids


def attach_documents(
    session: Session,
    value: Any,
    *,
    instance_id: int,
    owner: str,
    now: datetime,
    field: str = DOCUMENTS_FIELD,
) -> list[Document]:
    """Attach the documents `value` lists to the instance, in that order; one already
    attached to it stays. Each other one must be `owner`'s and not attached anywhere yet,
    else Refused naming `field`. Audited; part of the caller's unit of work."""
    attached: list[Document] = []
    for document_id in _ids(value, field):
        document = session.get(Document, document_id)
        if document is not None and document.instance_id == instance_id:
            attached.append(document)
            continue
        # Claimed with a guarded write: of two starts naming the same file, one attaches it.
        written = session.execute(
            update(Document)
            .where(
                Document.id == document_id,
                Document.instance_id.is_(None),
                Document.uploaded_by == owner,
            )
            .values(instance_id=instance_id)
            .execution_options(synchronize_session="fetch")
        )
        if document is None or getattr(written, "rowcount", 0) != 1:
            raise Refused(field, _not_yours(document_id))
        audit.record(
            session,
            kind="document.attached",
            actor=owner,
            now=now,
            instance_id=instance_id,
            payload={
                "document": document.id,
                "filename": document.filename,
                "sha256": document.sha256,
            },
        )
        attached.append(document)
    return attached


def attach_to_instance(
    session: Session, value: Any, *, instance_id: int, now: datetime
) -> list[Document]:
    """attach_documents for a step of the instance: what its starter uploaded may be attached."""
    instance = session.get_one(ProcessInstance, instance_id)
    return attach_documents(
        session, value, instance_id=instance_id, owner=instance.started_by or "", now=now
    )


def start_with_documents(
    session: Session,
    participant: Participant,
    process_key: str,
    data: dict[str, Any],
    now: datetime,
    *,
    notice: timedelta,
) -> ProcessInstance:
    """Start a procedure (start_procedure) and attach the documents its start form lists,
    all in the caller's unit of work: each must be one the person uploaded and has not
    attached yet, or nothing starts."""
    fields: Sequence[str] = document_fields(start_form(active_definition(session, process_key)))
    for field in fields:
        if isinstance(data.get(field), list):  # any other shape: the form refuses it
            check_attachable(session, data[field], owner=participant.username, field=field)
    instance = start_procedure(session, participant, process_key, data, now, notice=notice)
    for field in fields:
        attach_documents(
            session,
            data.get(field),
            instance_id=instance.id,
            owner=participant.username,
            now=now,
            field=field,
        )
    return instance
