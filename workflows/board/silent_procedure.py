"""A silent procedure as a Board member, an alternate or the Secretariat sees it.

The rules of what shows when (PROCEDURES.md, section 2): while a silent procedure runs, a
Board member learns which seats have answered only once their own seat has answered, and only
the Secretariat sees what the others answered; once it is closed, every seat's answer or
silence is on the record for everyone who may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant, offered_clause
from models import Decision, HumanTask, ProcessInstance
from workflows.board.decisions import ANSWER_TASK
from workflows.board.register import (
    DecisionFile,
    document_names,
    file_entries,
    final_words,
    outcome_words,
)
from workflows.board.seats import SeatState, closed_seats, display_names
from workflows.people.roles import BOARD_SEAT_CODES, BOARD_SEATS, partner_name

# The BPMN id of the Secretariat's extension task in `silent_procedure` (a contract with it).
EXTENSION_TASK = "extend_deadline"


def _seats_of(participant: Participant) -> set[str]:
    return {
        g.organisation for g in participant.grants if g.role == "board_member" and g.organisation
    }


def time_left(deadline: datetime | None, now: datetime, *, closed: bool) -> str:
    """The time to the deadline in plain words: "3 days 4 hours left", or "closed"."""
    if closed:
        return "closed"
    if deadline is None:
        return "no deadline"
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return "the deadline has passed; the outcome is being recorded"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        _count(days, "day"),
        _count(hours, "hour"),
        _count(minutes, "minute") if not days else "",
    ]
    words = " ".join(p for p in parts if p)
    return f"{words} left" if words else "less than a minute left"


def _count(number: int, unit: str) -> str:
    if not number:
        return ""
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


@dataclass(frozen=True)
class SilentProcedurePage:
    """A silent procedure as one viewer may see it."""

    decision: Decision
    instance: ProcessInstance | None
    closed: bool
    deadline_passed: bool
    time_left: str
    outcome: str
    # The files the Board decides on, frozen at launch; on older records, names only.
    files: list[DecisionFile]
    # The Board's final outcome on the matter (after a broken silence: the meeting's).
    final: str
    documents: list[str]
    # The viewer's own open answer task (their seat's), when they may answer now.
    answer_task: HumanTask | None
    # The seats the viewer holds (a Board member, or their alternate), and their answers.
    own_seats: list[SeatState]
    # Every seat's state, when the rules let the viewer see it yet; else empty.
    seats: list[SeatState]
    answers_shown: bool
    extension_task: HumanTask | None


def latest_silent_procedure(session: Session, instance_id: int) -> Decision | None:
    """The newest silent procedure a procedure instance launched, if any."""
    return session.scalars(
        select(Decision)
        .where(Decision.instance_id == instance_id, Decision.method == "silent_procedure")
        .order_by(Decision.launched_at.desc(), Decision.id.desc())
    ).first()


def _answer_tasks(session: Session, decision: Decision) -> list[HumanTask]:
    """The seats' answer tasks of this silent procedure (not of an earlier one)."""
    if decision.instance_id is None:
        return []
    return list(
        session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == decision.instance_id,
                HumanTask.bpmn_id == ANSWER_TASK,
                HumanTask.created_at >= decision.launched_at,
            )
            .order_by(HumanTask.id)
        )
    )


def _open_seat(task: HumanTask | None, code: str, names: dict[str, str], shown: bool) -> SeatState:
    answered = task is not None and task.status == "completed"
    if not answered or task is None or not shown:
        return SeatState(code, partner_name(code), answered)
    submitted = task.submitted or {}
    answer = str(submitted.get("answer") or "")
    return SeatState(
        seat=code,
        name=partner_name(code),
        answered=True,
        answer=answer,
        reason=(str(submitted.get("reason") or "") or None) if answer == "objection" else None,
        answered_by=names.get(task.completed_by or "", task.completed_by),
        answered_at=task.completed_at,
    )


def _offered_open_task(
    session: Session, instance_id: int | None, bpmn_id: str, participant: Participant
) -> HumanTask | None:
    if instance_id is None:
        return None
    return session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
            offered_clause(participant),
        )
        .order_by(HumanTask.id.desc())
    ).first()


def silent_procedure_page(
    session: Session, instance_id: int, participant: Participant, now: datetime
) -> SilentProcedurePage | None:
    """The newest silent procedure of an instance as this viewer may see it (None: none)."""
    decision = latest_silent_procedure(session, instance_id)
    if decision is None:
        return None
    closed = decision.closed_at is not None
    deadline_passed = decision.deadline is not None and decision.deadline <= now
    is_secretariat = participant.holds("secretariat")
    own = _seats_of(participant)
    tasks = _answer_tasks(session, decision)
    by_seat = {t.organisation: t for t in tasks if t.organisation}
    own_open = any(t.status == "open" for seat, t in by_seat.items() if seat in own)

    if closed:
        everyone = closed_seats(session, list(decision.answers))
        own_states = [s for s in everyone if s.seat in own]
        answers_shown = True
    else:
        names = display_names(session, (t.completed_by for t in tasks))
        codes = [s.code for s in BOARD_SEATS] + sorted(set(by_seat) - BOARD_SEAT_CODES)
        everyone = [_open_seat(by_seat.get(c), c, names, is_secretariat) for c in codes]
        own_states = [_open_seat(by_seat.get(c), c, names, True) for c in codes if c in own]
        answers_shown = is_secretariat
    # A Board member learns how the others stand only once their own seat has answered.
    progress_shown = closed or is_secretariat or not own_open
    answer_task = None
    if not closed and not deadline_passed:
        answer_task = _offered_open_task(session, decision.instance_id, ANSWER_TASK, participant)
    extension_task = None
    if not closed and is_secretariat:
        extension_task = _offered_open_task(
            session, decision.instance_id, EXTENSION_TASK, participant
        )
    instance = session.get(ProcessInstance, decision.instance_id) if decision.instance_id else None
    return SilentProcedurePage(
        decision=decision,
        instance=instance,
        closed=closed,
        deadline_passed=deadline_passed and not closed,
        time_left=time_left(decision.deadline, now, closed=closed),
        outcome=outcome_words(decision),
        files=file_entries(decision),
        final=final_words(decision),
        documents=document_names(decision),
        answer_task=answer_task,
        own_seats=own_states,
        seats=everyone if progress_shown else [],
        answers_shown=answers_shown,
        extension_task=extension_task,
    )
