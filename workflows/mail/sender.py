"""The sender: delivers the outbox over SMTP, at least once.

It claims due messages in one short transaction, talks to the mail server, then records each
result in its own; a process that dies after the server accepted a message but before that
record commits leaves the message pending, and it goes out again when its claim runs out. The
Message-ID header is the same on every attempt, so mail programs can tell a repeat from a new
message. Failures are retried with a doubling delay, up to the settings' maximum attempts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import Periodic
from models import OutboxMessage
from workflows.mail.smtp import Outgoing, deliver
from workflows.settings import MailSettings

log = logging.getLogger("iisg.mail")
# How long a claimed message is left to the process that claimed it before another may try:
# longer than a batch of slow sends, short enough that a crashed sender's mail is not stuck.
CLAIM_LEASE = timedelta(minutes=10)
SEND_BATCH = 20


def retry_delay(settings: MailSettings, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling, up to the maximum."""
    seconds = settings.first_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_retry_seconds))


def _claim(factory: sessionmaker[Session], now: datetime, batch: int) -> list[Outgoing]:
    """Take due pending messages for this sender: one attempt more, hidden from the others."""

    def work(session: Session) -> list[Outgoing]:
        due = [
            OutboxMessage.status == "pending",
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ]
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(*due)
                .order_by(OutboxMessage.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        # The conditions again: on SQLite (no row locks) a second sender that read the same
        # rows claims none of those the first has claimed.
        rows = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *due)
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .returning(
                OutboxMessage.id,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.created_at,
            )
            .execution_options(synchronize_session=False)
        ).all()
        return sorted((Outgoing(*row) for row in rows), key=lambda m: m.id)

    return run_in_transaction(factory, work)


def _record(
    factory: sessionmaker[Session],
    settings: MailSettings,
    message_id: int,
    error: str | None,
    now: datetime,
) -> None:
    def work(session: Session) -> None:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return
        if error is None:
            row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, None
        elif row.attempts >= settings.max_attempts:
            row.status, row.next_attempt_at, row.last_error = "failed", None, error
        else:
            row.next_attempt_at = now + retry_delay(settings, row.attempts)
            row.last_error = error

    run_in_transaction(factory, work)


def deliver_pending(
    factory: sessionmaker[Session], settings: MailSettings, now: datetime, batch: int = SEND_BATCH
) -> int:
    """Send the due messages over SMTP (nothing when no server is set); how many went out."""
    if settings.smtp is None:
        return 0
    sent = 0
    while True:
        claimed = _claim(factory, now, batch)
        if not claimed:
            return sent
        errors = deliver(settings.smtp, claimed, now)
        for message in claimed:
            error = errors.get(message.id)
            if error is not None:
                log.warning("mail %s to %s not sent: %s", message.id, message.recipient, error)
            _record(factory, settings, message.id, error, now)
        delivered = sum(1 for m in claimed if errors.get(m.id) is None)
        sent += delivered
        # A short batch was the last; a batch with nothing delivered means the server is
        # down, and the rest waits for the next run rather than each batch timing out.
        if len(claimed) < batch or not delivered:
            return sent


def sender_job(settings: MailSettings) -> Periodic:
    """`deliver_pending` as a periodic scheduler job."""

    def deliver_pending_job(factory: sessionmaker[Session], now: datetime) -> int:
        return deliver_pending(factory, settings, now)

    return Periodic("mail_sender", deliver_pending_job, settings.send_interval_seconds)
