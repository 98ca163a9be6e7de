"""The Board's outcome, told: when a decision is taken, every Board member (alternates too) and
the Secretariat get a mail with the subject, the outcome in words, when and how it was decided
and the link to its record (PROCEDURES.md, section 2: "When a decision is taken, the Board
members, the Secretariat and whoever the matter concerns are told the outcome")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import audit
from models import Decision
from workflows.board.register import outcome_words
from workflows.board.seats import SeatState, closed_seats
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import board_and_secretariat
from workflows.people.roles import KOSOVO_FOOTNOTE

OUTCOME_MAIL = "board_outcome"


def _seat_line(seat: SeatState) -> str:
    line = f"- {seat.name}: {seat.answer_words}"
    if seat.reason:
        line += f": {seat.reason}"
    if seat.answered_by:
        line += f" ({seat.answered_by})"
    return line


def _how(decision: Decision) -> list[str]:
    """When and how the Board decided, in plain words."""
    assert decision.closed_at is not None
    if decision.method == "meeting":
        lines = [
            "How: at a Board meeting; the Secretariat recorded the outcome on "
            f"{when(decision.closed_at)}."
        ]
        if decision.minutes:
            lines += ["", "Conclusions of the meeting:", decision.minutes.strip()]
        return lines
    launched = f"launched on {when(decision.launched_at)}"
    deadline = f", deadline {when(decision.deadline)}" if decision.deadline else ""
    return [
        f"How: by silent written procedure, {launched}{deadline}.",
        f"Decided: {when(decision.closed_at)}.",
    ]


def outcome_mail(session: Session, decision: Decision) -> tuple[str, str]:
    """The subject and body telling the Board and the Secretariat a decision's outcome."""
    verdict = "adopted" if decision.outcome == "adopted" else "not adopted"
    lines = [
        "The IISG Board has taken a decision.",
        "",
        f"Subject: {decision.subject}",
        f"Outcome: {outcome_words(decision)}",
        *_how(decision),
    ]
    seats = closed_seats(session, list(decision.answers))
    if seats:
        lines += ["", "Each seat's answer:", *(_seat_line(seat) for seat in seats)]
    if decision.on_next_meeting_agenda:
        lines += ["", "The matter goes on the agenda of the Board's next meeting."]
    lines += ["", f"The record of the decision: {page_link(f'/decisions/{decision.id}')}", ""]
    if any(seat.name.endswith("*") for seat in seats):
        lines += [f"* {KOSOVO_FOOTNOTE}", ""]
    return f"Board decision, {verdict}: {decision.subject}", "\n".join(lines)


def tell_of_the_outcome(session: Session, decision: Decision, now: datetime) -> None:
    """Mail the outcome of a decision just taken to every Board member (alternates too) and
    the Secretariat, in the unit of work that records it, and put that on the audit trail."""
    subject, body = outcome_mail(session, decision)
    told = board_and_secretariat(session)
    for person in told:
        enqueue(
            session,
            person,
            subject=subject,
            body=body,
            kind=OUTCOME_MAIL,
            now=now,
            instance_id=decision.instance_id,
        )
    audit.record(
        session,
        kind="board.outcome_told",
        actor=decision.recorded_by or "system",
        now=now,
        instance_id=decision.instance_id,
        payload={
            "decision": decision.id,
            "outcome": decision.outcome,
            "told": [person.username for person in told],
        },
    )
