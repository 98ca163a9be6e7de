"""The audit trail: append-only, each event hashed together with the one before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from models import GENESIS_HASH, AuditChainHead, AuditEvent


def event_hash(
    seq: int,
    occurred_at: datetime,
    actor: str,
    kind: str,
    instance_id: int | None,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    """The SHA-256 of an event's content and its predecessor's hash."""
    body = json.dumps(
        [
            seq,
            occurred_at.astimezone(UTC).isoformat(),
            actor,
            kind,
            instance_id,
            payload,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Built once: every event runs the same statements on the chain head.
_NEXT_SEQ = (
    update(AuditChainHead)
    .where(AuditChainHead.id == 1)
    .values(seq=AuditChainHead.seq + 1)
    .returning(AuditChainHead.seq, AuditChainHead.last_hash)
)
_LINK = update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=bindparam("digest"))
_FIELDS = ("seq", "occurred_at", "actor", "kind", "instance_id", "payload", "prev_hash", "hash")
# Parameters named apart from the head's columns, so the head's UPDATE sets only its hash.
_EVENTS = cast(Table, AuditEvent.__table__)
_APPEND = insert(_EVENTS).values(
    {name: bindparam(f"event_{name}", type_=_EVENTS.c[name].type) for name in _FIELDS}
)
# PostgreSQL moves the head and appends the event in one statement (one round trip less).
_APPEND_AND_LINK = _APPEND.add_cte(_LINK.cte("link"))


def record(
    session: Session,
    *,
    kind: str,
    actor: str,
    now: datetime,
    instance_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one event. Locks the chain head until the unit of work commits."""
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) first, so two
    # units of work can never both extend the chain from the same predecessor. The
    # statements go to the connection as they are: no loaded object mirrors the head or
    # the trail, so the ORM has nothing to synchronise (that bookkeeping cost as much as
    # the statements).
    connection = session.connection()
    seq, prev_hash = connection.execute(_NEXT_SEQ).one()
    body = payload or {}
    # Round-trip the payload through JSON so the hash covers exactly what is stored.
    body = json.loads(json.dumps(body, default=str))
    digest = event_hash(seq, now, actor, kind, instance_id, body, prev_hash)
    values = (seq, now, actor, kind, instance_id, body, prev_hash, digest)
    event = {f"event_{name}": value for name, value in zip(_FIELDS, values, strict=True)}
    if connection.dialect.name == "postgresql":
        connection.execute(_APPEND_AND_LINK, {**event, "digest": digest})
    else:
        connection.execute(_APPEND, event)
        connection.execute(_LINK, {"digest": digest})


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: how many events held, and the first that did not."""

    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        """True when every link holds."""
        return self.broken_seq is None


def verify(session: Session, batch: int = 2000) -> ChainReport:
    """Recompute every link in order; report the first event that does not match."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    ).scalars()
    for event in rows:
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "its link to the previous event does not match")
        digest = event_hash(
            event.seq,
            event.occurred_at,
            event.actor,
            event.kind,
            event.instance_id,
            event.payload,
            event.prev_hash,
        )
        if digest != event.hash:
            return ChainReport(checked, event.seq, "its content was changed after it was written")
        expected_prev, expected_seq, checked = event.hash, event.seq + 1, checked + 1
    head = session.get(AuditChainHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.last_hash != expected_prev):
        return ChainReport(
            checked,
            expected_seq,
            f"the chain ends at event {expected_seq - 1} but {head.seq} were written",
        )
    return ChainReport(checked)
