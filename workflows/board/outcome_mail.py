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


VERDICTS = {"adopted": "adopted", "not_adopted": "not adopted", "withdrawn": "withdrawn"}


def outcome_mail(session: Session, decision: Decision, final: str) -> tuple[str, str]:
    """The subject and body telling the Board and the Secretariat the Board's final outcome
    on a matter, `decision` being its last record."""
    verdict = VERDICTS.get(final, final)
    lines = [
        "The IISG Board's decision on a matter is final."
        if final != "withdrawn"
        else "A matter before the IISG Board has been withdrawn.",
        "",
        f"Subject: {decision.subject}",
        f"Outcome: {outcome_words(decision)}",
    ]
    if final == "withdrawn" and decision.withdrawal_reason:
        lines.append(f"Why it was withdrawn: {decision.withdrawal_reason}")
    lines += _how(decision)
    seats = closed_seats(session, list(decision.answers))
    if seats:
        lines += ["", "Each seat's answer:", *(_seat_line(seat) for seat in seats)]
    lines += ["", f"The record of the decision: {page_link(f'/decisions/{decision.id}')}", ""]
    if any(seat.name.endswith("*") for seat in seats):
        lines += [f"* {KOSOVO_FOOTNOTE}", ""]
    return f"Board decision, {verdict}: {decision.subject}", "\n".join(lines)


def tell_of_the_outcome(session: Session, decision: Decision, final: str, now: datetime) -> None:
    """Mail the Board's final outcome on a matter to every Board member (alternates too) and
    the Secretariat, in the unit of work that records it, and put that on the audit trail."""
    subject, body = outcome_mail(session, decision, final)
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
            "outcome": final,
            "told": [person.username for person in told],
        },
    )
