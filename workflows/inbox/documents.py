"""Documents of a procedure instance: checked by name and by content, stored on disk under a
uuid (never under the name the uploader gave), recorded in `document`, audited."""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.instances.assignment import Participant
from models import Document
from workflows.procedures.access import check_may_see_instance
from workflows.refusals import RequestRefused

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_NAME_MAX = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def size_words(size: int) -> str:
    """A number of bytes as a person reads it: 812 bytes, 64 KB, 20 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _starts(*magics: bytes) -> Callable[[bytes], bool]:
    return lambda data: any(data.startswith(magic) for magic in magics)


def _zip_with(member_prefix: str) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        names = _zip_names(data)
        return any(name.startswith(member_prefix) for name in names)

    return check


def _open_document(mimetype: str) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        # OpenDocument files start with an uncompressed "mimetype" member naming the kind.
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with (
                zipfile.ZipFile(io.BytesIO(data)) as archive,
                archive.open("mimetype") as member,
            ):
                return member.read(100).strip() == mimetype.encode("ascii")
        except (zipfile.BadZipFile, KeyError, OSError):
            return False

    return check


def _zip_names(data: bytes) -> list[str]:
    if not data.startswith(b"PK\x03\x04"):
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def _plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class DocumentKind:
    """A type of file the procedures accept: its content type and how its bytes look."""

    label: str
    content_type: str
    looks_right: Callable[[bytes], bool]


KINDS: dict[str, DocumentKind] = {
    "pdf": DocumentKind("PDF", "application/pdf", _starts(b"%PDF-")),
    "docx": DocumentKind(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _zip_with("word/"),
    ),
    "xlsx": DocumentKind(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _zip_with("xl/"),
    ),
    "odt": DocumentKind(
        "OpenDocument text",
        "application/vnd.oasis.opendocument.text",
        _open_document("application/vnd.oasis.opendocument.text"),
    ),
    "ods": DocumentKind(
        "OpenDocument spreadsheet",
        "application/vnd.oasis.opendocument.spreadsheet",
        _open_document("application/vnd.oasis.opendocument.spreadsheet"),
    ),
    "png": DocumentKind("PNG image", "image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": DocumentKind("JPEG image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": DocumentKind("JPEG image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    "txt": DocumentKind("text", "text/plain; charset=utf-8", _plain_text),
    "csv": DocumentKind("CSV table", "text/csv; charset=utf-8", _plain_text),
}
ACCEPTED = ", ".join(sorted({f".{ext}" for ext in KINDS if ext != "jpeg"}))


def display_name(raw: str) -> str:
    """The uploader's file name cleaned for display: no folders, no control characters.

    It is only ever shown and offered as the download name; the file on disk is a uuid.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = _UNSAFE.sub("", name)
    name = re.split(r"[\\/]", name)[-1]
    name = " ".join(name.split()).strip(". ")
    if len(name) > _NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = stem[: _NAME_MAX - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name
        name = name[:_NAME_MAX]
    return name


@dataclass(frozen=True)
class Upload:
    """An uploaded file that passed the checks, with the uuid it will be stored under."""

    filename: str
    stored_name: str
    content_type: str
    data: bytes
    sha256: str


def check_upload(raw_name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Upload:
    """Check a file by its name's extension and by its bytes; RequestRefused says what is wrong."""
    if not (raw_name or "").strip() and not data:
        raise RequestRefused("Choose a file to upload first.")
    filename = display_name(raw_name) or "unnamed file"
    if not data:
        raise RequestRefused(f"'{filename}' is empty; nothing was uploaded.")
    if len(data) > max_bytes:
        raise RequestRefused(
            f"'{filename}' is too large: files can be at most {size_words(max_bytes)}."
        )
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    kind = KINDS.get(ext)
    if kind is None:
        raise RequestRefused(
            f"'{filename}' is not a type of file the procedures accept. Upload one of: {ACCEPTED}."
        )
    if not kind.looks_right(data):
        raise RequestRefused(
            f"'{filename}' is named like a {kind.label} but its content is not one. "
            "Save it again in that format, or rename it to what it really is."
        )
    return Upload(
        filename=filename,
        stored_name=str(uuid.uuid4()),
        content_type=kind.content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


# The folder of the documents uploaded before the procedure they go with exists.
EARLY_UPLOADS = "uploads"
# Where this process keeps documents (set once at start, as the mail settings are): the
# service tasks that write a document (a mapping's generated reports) find it here.
_directory_in_use: list[Path] = [Path("instance") / "documents"]


def use_documents_directory(directory: Path) -> None:
    """Keep this process's documents under `directory` (called once, at start)."""
    _directory_in_use[0] = directory


def documents_directory() -> Path:
    """Where this process keeps documents."""
    return _directory_in_use[0]


def folder_of(instance_id: int | None) -> str:
    """The folder a new document's file goes in: its instance's, or the early uploads'."""
    return EARLY_UPLOADS if instance_id is None else str(int(instance_id))


def stored_path(directory: Path, folder: int | str | None, stored_name: str) -> Path:
    """Where a document's bytes live: <documents>/<instance id or "uploads">/<uuid>."""
    # Both parts are always ones we made; checked anyway so no row can point elsewhere.
    name = folder_of(folder) if not isinstance(folder, str) else folder
    if name != EARLY_UPLOADS and not name.isdigit():
        raise ValueError(f"{name!r} is not a documents folder")
    return directory / name / str(uuid.UUID(stored_name))


def store_document(
    session: Session,
    instance_id: int | None,
    upload: Upload,
    *,
    uploaded_by: str,
    now: datetime,
    directory: Path,
) -> Document:
    """Write a checked upload's file and record it, audited; no check of who may (callers
    check). The file is written under its uuid before the row is flushed; a caller whose unit
    of work fails afterwards removes it again with `discard_upload`."""
    folder = folder_of(instance_id)
    path = stored_path(directory, folder, upload.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with open(partial, "wb") as file:
        file.write(upload.data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    document = Document(
        instance_id=instance_id,
        stored_in=folder,
        filename=upload.filename,
        stored_name=upload.stored_name,
        content_type=upload.content_type,
        size=len(upload.data),
        sha256=upload.sha256,
        uploaded_by=uploaded_by,
        uploaded_at=now,
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        kind="document.uploaded",
        actor=uploaded_by,
        now=now,
        instance_id=instance_id,
        payload={
            "document": document.id,
            "filename": upload.filename,
            "size": document.size,
            "sha256": upload.sha256,
        },
    )
    return document


def add_document(
    session: Session,
    instance_id: int,
    upload: Upload,
    *,
    uploader: Participant,
    now: datetime,
    directory: Path,
) -> Document:
    """Store a checked upload for the instance and record it, for one who may see it.

    A caller whose unit of work fails afterwards removes the file with `discard_upload`.
    """
    check_may_see_instance(session, uploader, instance_id)
    return store_document(
        session, instance_id, upload, uploaded_by=uploader.username, now=now, directory=directory
    )


def discard_upload(directory: Path, instance_id: int | None, upload: Upload) -> None:
    """Remove the file of an upload whose record was not saved."""
    path = stored_path(directory, folder_of(instance_id), upload.stored_name)
    path.unlink(missing_ok=True)
    path.with_suffix(".part").unlink(missing_ok=True)


def file_of(document: Document, directory: Path) -> Path:
    """Where a recorded document's bytes are."""
    return stored_path(directory, document.stored_in, document.stored_name)


def documents(session: Session, instance_id: int) -> list[Document]:
    """The documents of a procedure instance, oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.instance_id == instance_id)
            .order_by(Document.uploaded_at, Document.id)
        )
    )


def document_to_download(
    session: Session, document_id: int, *, reader: Participant, directory: Path
) -> tuple[Document, Path] | None:
    """The document and its file, if the reader may see its instance (NoAccess if not); None
    if there is none. A document not yet attached to a procedure is its uploader's alone."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    if document.instance_id is None:
        if document.uploaded_by != reader.username:
            return None
    else:
        check_may_see_instance(session, reader, document.instance_id)
    path = file_of(document, directory)
    return (document, path) if path.is_file() else None
