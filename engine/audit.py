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
    payload_text: str,
    prev_hash: str,
) -> str:
    """The SHA-256 of an event's content (its payload as its stored text) and its
    predecessor's hash."""
    columns = _columns(occurred_at, actor, kind, instance_id)
    body = f"[{_canonical(seq)},{columns},{payload_text},{_canonical(prev_hash)}]"
    return hashlib.sha256(body.encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _columns(occurred_at: datetime, actor: str, kind: str, instance_id: int | None) -> str:
    """The event's columns as the hash covers them: the canonical JSON array [seq, when, actor,
    kind, instance, payload, prev] is this text between the sequence number and the payload's
    stored text. Written with ensure_ascii=False, as every hash since the first was."""
    return _canonical([occurred_at.astimezone(UTC).isoformat(), actor, kind, instance_id])[1:-1]


def payload_text(payload: dict[str, Any]) -> str:
    """A payload as the canonical JSON text that is stored and hashed: sorted keys, pure ASCII
    (any character survives any database), values JSON cannot carry refused."""
    try:
        # Through JSON once first, so that tuples, dates and numeric keys are what they
        # will read back as (sorting mixed keys would fail).
        plain = json.loads(json.dumps(payload, default=str, allow_nan=False))
    except ValueError as err:
        raise ValueError(
            f"an audit payload cannot hold NaN or Infinity (JSON has no such numbers): {err}"
        ) from err
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# Built once: every event runs the same statements on the chain head.
_NEXT_SEQ = (
    update(AuditChainHead)
    .where(AuditChainHead.id == 1)
    .values(seq=AuditChainHead.seq + 1)
    .returning(AuditChainHead.seq, AuditChainHead.last_hash)
)
_LINK = update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=bindparam("digest"))
# What an event says, and the chain's fields around it.
_CONTENT = ("occurred_at", "actor", "kind", "instance_id", "payload_text")
_FIELDS = ("seq", *_CONTENT, "prev_hash", "hash")
_EVENTS = cast(Table, AuditEvent.__table__)
# Parameters named apart from the columns (SQLAlchemy keeps a column's own name for itself).
_APPEND = insert(_EVENTS).values(
    {name: bindparam(f"event_{name}", type_=_EVENTS.c[name].type) for name in _FIELDS}
)


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
    # The head's UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) first, so
    # two units of work can never both extend the chain from the same predecessor. The
    # statements go to the connection as they are: no loaded object mirrors the head or
    # the trail, so the ORM has nothing to synchronise (that bookkeeping cost as much as
    # the statements).
    connection = session.connection()
    content = (now, actor, kind, instance_id, payload_text(payload or {}))
    seq, prev_hash = connection.execute(_NEXT_SEQ).one()
    digest = event_hash(seq, *content, prev_hash)
    event = {
        f"event_{name}": value
        for name, value in zip(_FIELDS, (seq, *content, prev_hash, digest), strict=True)
    }
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
            event.payload_text,
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
