"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One thing that happened; `hash` covers this row and the previous row's hash."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), index=True
    )
    # The payload's canonical JSON text, exactly the text the hash covers: a JSON column
    # would be re-rendered by the database (PostgreSQL reads 1e300 back as a long integer).
    payload_text: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def payload(self) -> dict[str, Any]:
        """What the event says, parsed from its stored text."""
        value: dict[str, Any] = json.loads(self.payload_text)
        return value


class AuditChainHead(Base):
    """A single row: the chain's last sequence number and hash, locked by each append."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))
