"""Exactly once for what the scheduler's jobs send: a `Notice` row with a unique key, written
in the same unit of work as the mail and the audit record it stands for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Notice


def claim_notice(session: Session, key: str, now: datetime) -> bool:
    """Write the notice's key; False when it is written already, here or by another scheduler.

    The insert runs in a savepoint: when another scheduler wrote the same key a moment ago
    (committed, or waiting to commit on PostgreSQL), only the savepoint is undone and the
    caller's unit of work goes on without sending anything twice."""
    if session.scalar(select(Notice.id).where(Notice.key == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Notice(key=key, created_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True
