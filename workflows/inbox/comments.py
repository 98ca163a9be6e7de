"""Comments on a procedure instance, for everyone who may see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.instances.assignment import Participant
from models import Comment
from workflows.procedures.access import check_may_see_instance
from workflows.refusals import RequestRefused

COMMENT_MAX_CHARS = 5000


def comments(session: Session, instance_id: int) -> list[Comment]:
    """The comments on a procedure instance, oldest first."""
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.instance_id == instance_id)
            .order_by(Comment.created_at, Comment.id)
        )
    )


def add_comment(
    session: Session, instance_id: int, text: str, *, author: Participant, now: datetime
) -> Comment:
    """Add a comment to a procedure instance, for everyone who may see it."""
    check_may_see_instance(session, author, instance_id)
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise RequestRefused("The comment is empty: write something first.")
    if len(body) > COMMENT_MAX_CHARS:
        raise RequestRefused(
            f"The comment has {len(body)} characters; at most {COMMENT_MAX_CHARS} fit. "
            "Shorten it, or upload a longer text as a document."
        )
    comment = Comment(instance_id=instance_id, author=author.username, text=body, created_at=now)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        kind="comment.added",
        actor=author.username,
        now=now,
        instance_id=instance_id,
        payload={"comment": comment.id, "characters": len(body)},
    )
    return comment
