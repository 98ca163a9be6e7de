"""How a withdrawn procedure was withdrawn: who, when and why, as its audit trail says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent

# The audit event a withdrawal writes (one per instance: a withdrawn procedure stays ended).
CANCELLED = "instance.cancelled"


@dataclass(frozen=True)
class Cancellation:
    """Who withdrew a procedure, when, and the reason they gave."""

    by: str
    at: datetime
    reason: str

    def sentence(self) -> str:
        """The withdrawal in words: '<who> withdrew the procedure on <day> (reason: ...)'."""
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)
        return (
            f"{self.by} withdrew the procedure on {at.day} {at:%B %Y at %H:%M} UTC "
            f"(reason: {self.reason})"
        )


def cancellation_of(session: Session, instance_id: int) -> Cancellation | None:
    """How the instance was withdrawn; None if it never was."""
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.kind == CANCELLED)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    return Cancellation(event.actor, event.occurred_at, str(event.payload.get("reason") or ""))
