"""Each Board seat's answer or silence as the pages show it, with who answered and when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import DecisionAnswer, HumanTask, User
from workflows.people.roles import BOARD_MEMBER, BOARD_SEAT_CODES, BOARD_SEATS, partner_name

ANSWER_WORDS = {
    "no_objection": "no objection",
    "objection": "objection",
    "silence": "silence (counts as agreement)",
    "no_answer": "no answer",
}
# What a seat that gave no answer is recorded with: silence once the deadline passed, "no
# answer" when an objection closed the procedure before it.
UNANSWERED = frozenset({"silence", "no_answer"})


@dataclass(frozen=True)
class SeatState:
    """One seat in a silent procedure: whether it answered and, where the viewer may know,
    what, why, who and when."""

    seat: str
    name: str
    answered: bool
    answer: str | None = None  # no_objection, objection, silence, no_answer; None: not shown
    reason: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None

    @property
    def answer_words(self) -> str:
        """The answer in plain words."""
        return ANSWER_WORDS.get(self.answer or "", self.answer or "")


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    ).all()
    return {u: u if name == u else f"{name} ({u})" for u, name in rows}


def recorded_seats(answers: list[DecisionAnswer], names: dict[str, str]) -> list[SeatState]:
    """Each seat's recorded answer or silence, in the Board's order."""
    by_seat = {a.seat: a for a in answers}
    order = [s.code for s in BOARD_SEATS] + sorted(set(by_seat) - BOARD_SEAT_CODES)
    return [
        SeatState(
            seat=code,
            name=partner_name(code),
            answered=recorded.answer not in UNANSWERED,
            answer=recorded.answer,
            reason=recorded.reason,
            answered_by=names.get(recorded.answered_by or "", recorded.answered_by),
            answered_at=recorded.answered_at,
        )
        for code in order
        if (recorded := by_seat.get(code)) is not None
    ]


def closed_seats(session: Session, answers: list[DecisionAnswer]) -> list[SeatState]:
    return recorded_seats(answers, display_names(session, (a.answered_by for a in answers)))


def is_seat_task(task: HumanTask) -> bool:
    """A Board seat's own task (its answer to a silent procedure): offered to the seat's
    holder (and alternate), it is answered, never claimed."""
    return task.role == BOARD_MEMBER and task.organisation is not None and task.assignee is None
