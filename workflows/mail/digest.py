"""The daily digest: once a day, at or after the digest hour, one mail per person bundling
what waited for it; exactly once however many schedulers run (a notice key per person and
day)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import JobOutcome, PassJob
from models import OutboxMessage, User
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.notices import claim_notice
from workflows.settings import MailSettings


def digest_moment(now: datetime, hour_utc: int) -> datetime:
    """Today's digest time: the digest of this day bundles what came before it."""
    day = now.astimezone(UTC)
    return day.replace(hour=hour_utc, minute=0, second=0, microsecond=0)


def digest_key(user_id: int, moment: datetime) -> str:
    """The once-only key of one person's digest of one day."""
    return f"digest:{user_id}:{moment.date().isoformat()}"


def _digest_mail(user: User, messages: Sequence[OutboxMessage]) -> tuple[str, str]:
    count = f"{len(messages)} message{'s' if len(messages) != 1 else ''}"
    lines = [
        f"Hello {user.display_name},",
        "",
        f"Here is what IISG Procedures had for you since your last digest: {count}.",
    ]
    for number, message in enumerate(messages, start=1):
        lines += ["", f"{number}. {message.subject} ({when(message.created_at)})", ""]
        lines += [f"   {line}" if line else "" for line in message.body.rstrip().splitlines()]
    lines += [
        "",
        "You get one mail a day because you chose a daily digest. To get each mail as it "
        f"comes, change it here: {page_link('/account/mail')}",
        "",
    ]
    return f"Your IISG Procedures digest: {count}", "\n".join(lines)


def _send_digest(
    factory: sessionmaker[Session], user_id: int, moment: datetime, now: datetime
) -> bool:
    key = digest_key(user_id, moment)

    def work(session: Session) -> bool:
        user = session.get(User, user_id)
        messages = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.user_id == user_id,
                    OutboxMessage.status == "digest",
                    OutboxMessage.created_at < moment,
                )
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        )
        if user is None or not messages:
            return False
        if not claim_notice(session, key, now):
            return False  # another scheduler sent this digest a moment ago
        subject, body = _digest_mail(user, messages)
        digest = enqueue(session, user, subject=subject, body=body, kind="digest", now=now)
        if digest.status == "digest":
            digest.status = "pending"  # the digest itself goes out at once
        session.flush()
        for message in messages:
            message.status = "bundled"
            message.digest_id = digest.id
        return True

    sent: bool = run_in_transaction(factory, work)
    return sent


def send_digests(
    factory: sessionmaker[Session], settings: MailSettings, now: datetime
) -> JobOutcome:
    """Once a day, at or after the digest hour, one digest per person bundling what waits."""
    moment = digest_moment(now, settings.digest_hour_utc)
    if now < moment:
        return JobOutcome(0, moment)
    with factory() as session:
        user_ids = list(
            session.scalars(
                select(OutboxMessage.user_id)
                .where(
                    OutboxMessage.status == "digest",
                    OutboxMessage.created_at < moment,
                    OutboxMessage.user_id.is_not(None),
                )
                .distinct()
            )
        )
    sent = sum(_send_digest(factory, user_id, moment, now) for user_id in user_ids if user_id)
    return JobOutcome(sent, moment + timedelta(days=1))


def digest_job(settings: MailSettings) -> PassJob:
    """`send_digests` as a scheduler pass job."""

    def send_digests_job(factory: sessionmaker[Session], now: datetime) -> JobOutcome:
        return send_digests(factory, settings, now)

    return send_digests_job
