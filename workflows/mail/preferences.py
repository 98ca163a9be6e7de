"""How a person gets mail: each message as it comes, or one digest a day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import audit
from models import MAIL_MODES, OutboxMessage, User


class MailModeError(ValueError):
    """A mail mode the system does not know; says which ones it does."""


def choose_mail_mode(session: Session, user_id: int, mode: str, *, now: datetime) -> bool:
    """Set how the person gets mail; True when it changed (then it is on the audit trail).

    Going back to immediate mail sends what waits for the digest at once.
    """
    if mode not in MAIL_MODES:
        raise MailModeError(f"choose one of {', '.join(MAIL_MODES)}, not {mode!r}")
    user = session.get(User, user_id)
    if user is None:
        raise MailModeError("there is no such person")
    if user.mail_mode == mode:
        return False
    before, user.mail_mode = user.mail_mode, mode
    released = 0
    if mode == "immediate":
        released = len(
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.user_id == user.id, OutboxMessage.status == "digest")
                .values(status="pending")
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    audit.record(
        session,
        kind="account.mail_mode_changed",
        actor=user.username,
        now=now,
        payload={"from": before, "to": mode, "released_from_digest": released},
    )
    return True
