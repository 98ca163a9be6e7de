"""Documents and comments attached to a procedure instance, kept outside its workflow data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Document(Base):
    """A file uploaded to a procedure; its bytes live on disk under `stored_in`/`stored_name`.

    A document uploaded before its procedure exists (to launch a Board decision with it) has
    no instance until a start attaches it; until then it is its uploader's alone."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("stored_name"),
        Index(None, "instance_id", "uploaded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    # The folder under the documents directory: the instance's id, or "uploads" for a file
    # uploaded before its procedure existed (it stays there once attached).
    stored_in: Mapped[str] = mapped_column(String(16))
    # The uploader's file name, cleaned for display; never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    # A uuid: the only name the file has on disk.
    stored_name: Mapped[str] = mapped_column(String(36))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class Comment(Base):
    """A remark someone made on a procedure instance."""

    __tablename__ = "comment"
    __table_args__ = (Index(None, "instance_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
