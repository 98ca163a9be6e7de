"""What the Secretariat reads of the outbox: every mail, newest first, by status, a page at a
time; one mail with its body; and whether mail leaves the system at all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import OutboxMessage, User
from models.notifications import OUTBOX_STATUSES
from workflows.settings import SmtpSettings

PER_PAGE = 50
# Mails whose text carries a personal link (to set a password): the Secretariat sees that
# they were sent, never their text, or it could use the link itself.
PERSONAL_KINDS = frozenset({"account"})


@dataclass(frozen=True)
class OutboxRow:
    """One mail and the person it is for (None when their account is gone)."""

    message: OutboxMessage
    person: str | None

    @property
    def readable_body(self) -> str | None:
        """The mail's text as the Secretariat may read it; None for a personal link's mail."""
        return None if self.message.kind in PERSONAL_KINDS else self.message.body


@dataclass(frozen=True)
class OutboxPage:
    """One page of the outbox, with what the filter and the page links need."""

    rows: list[OutboxRow]
    status: str | None
    page: int
    pages: int
    total: int
    counts: dict[str, int]


@dataclass(frozen=True)
class MailServerState:
    """Whether mail is sent, and through which server."""

    server: str | None


def outbox_page(session: Session, status: str | None = None, page: int = 1) -> OutboxPage:
    """The outbox, newest first; only `status` when one is given (an unknown one is ignored)."""
    status = status if status in OUTBOX_STATUSES else None
    counts = {
        found: number
        for found, number in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    total = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    query = (
        select(OutboxMessage, User.display_name)
        .outerjoin(User, User.id == OutboxMessage.user_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    rows = [OutboxRow(message, person) for message, person in session.execute(query)]
    return OutboxPage(rows, status, page, pages, total, counts)


def outbox_message(session: Session, message_id: int) -> OutboxRow | None:
    """One mail of the outbox, with the person it is for."""
    found = session.execute(
        select(OutboxMessage, User.display_name)
        .outerjoin(User, User.id == OutboxMessage.user_id)
        .where(OutboxMessage.id == message_id)
    ).first()
    return None if found is None else OutboxRow(found[0], found[1])


def mail_server_state(smtp: SmtpSettings | None) -> MailServerState:
    """The SMTP server mail goes through, as the settings the process started with say."""
    return MailServerState(None if smtp is None else f"{smtp.host}:{smtp.port}")
