"""What the Board's pages read and what they may show: a silent procedure as a Board member,
the Secretariat or an alternate sees it, the decision register and its CSV export, and the
member register with its focal points.

The rules of what shows when (PROCEDURES.md, section 2): while a silent procedure runs, a
Board member learns which seats have answered only once their own seat has answered, and only
the Secretariat sees what the others answered; once it is closed, every seat's answer or
silence is on the record for everyone who may read it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from engine.assignment import Participant, offered_clause
from engine.errors import FormInvalid, NotAllowed
from engine.instances import complete_task_or_log_refusal
from models import (
    Decision,
    DecisionAnswer,
    FocalPoint,
    HumanTask,
    Organisation,
    ProcessInstance,
    User,
)
from models.register import FOCAL_POINT_KINDS
from workflows.decisions import ANSWER_TASK
from workflows.roles import BOARD_SEAT_CODES, BOARD_SEATS, PILLARS, partner_name

# The BPMN id of the Secretariat's extension task in `silent_procedure` (a contract with it).
EXTENSION_TASK = "extend_deadline"

SILENT_PROCEDURE_READERS = frozenset({"board_member", "secretariat"})
REGISTER_READERS = frozenset({"member", "board_member", "secretariat"})

ANSWER_WORDS = {
    "no_objection": "no objection",
    "objection": "objection",
    "silence": "silence (counts as agreement)",
}
METHOD_WORDS = {"silent_procedure": "silent procedure", "meeting": "meeting"}
OUTCOME_REASON_WORDS = {
    "objection": "a seat objected",
    "all_no_objection": "every seat answered no objection",
    "silence_at_deadline": "silence at the deadline",
}
# The member groups of `002_*`, section 1, in its order; the host of the Secretariat last.
MEMBER_GROUP_WORDS = {
    "wb_partner": "a) Western Balkan partner",
    "international_partner": "b) international partner operating in the region",
    "eu_institution": "c) European Commission or EEAS",
    "eu_jha_agency": "d) EU Justice and Home Affairs agency",
    "host": "host of the Secretariat",
}
STATUS_WORDS = {
    "member": "member",
    "notified": "member, on notification to the Board",
    "applicant": "applicant",
    "not_confirmed": "not confirmed by the Board",
}
# The register's columns, in the order of models.register.FOCAL_POINT_KINDS.
FOCAL_POINT_WORDS = {"official": "Official correspondence"} | {p: p for p in PILLARS}
CSV_HEADER = (
    "decision_id",
    "subject",
    "method",
    "launched_at",
    "deadline",
    "closed_at",
    "outcome",
    "outcome_reason",
    "on_next_meeting_agenda",
    "text_sha256",
    "seat",
    "answer",
    "reason",
    "answered_by",
    "answered_at",
)
# A cell a spreadsheet would read as a formula is written with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def may_read_silent_procedures(participant: Participant) -> bool:
    """Board members (and their alternates) and the Secretariat read silent procedures."""
    return any(participant.holds(role) for role in SILENT_PROCEDURE_READERS)


def may_read_registers(participant: Participant) -> bool:
    """Every IISG member, Board member and the Secretariat reads the decision and member
    registers."""
    return any(participant.holds(role) for role in REGISTER_READERS)


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


def document_names(decision: Decision) -> list[str]:
    """The names of a decision's documents, whether given as names or as {name, url}."""
    names = []
    for document in decision.documents or []:
        if isinstance(document, dict):
            names.append(str(document.get("name") or document.get("url") or "(unnamed)"))
        else:
            names.append(str(document))
    return names


def outcome_words(decision: Decision) -> str:
    """The outcome in plain words, with its reason."""
    if decision.outcome is None:
        return "open: the Board is deciding"
    verdict = "adopted" if decision.outcome == "adopted" else "not adopted"
    reason = decision.outcome_reason or ""
    if decision.method == "meeting" or reason.startswith("meeting"):
        return f"{verdict} at a {reason}" if reason else f"{verdict} at a meeting"
    because = OUTCOME_REASON_WORDS.get(reason, reason.replace("_", " "))
    return f"{verdict}: {because}" if because else verdict


@dataclass(frozen=True)
class SeatState:
    """One seat in a silent procedure: whether it answered and, where the viewer may know,
    what, why, who and when."""

    seat: str
    name: str
    answered: bool
    answer: str | None = None  # no_objection, objection or silence; None when not shown
    reason: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None

    @property
    def answer_words(self) -> str:
        """The answer in plain words."""
        return ANSWER_WORDS.get(self.answer or "", self.answer or "")


@dataclass(frozen=True)
class SilentProcedurePage:
    """A silent procedure as one viewer may see it."""

    decision: Decision
    instance: ProcessInstance | None
    closed: bool
    deadline_passed: bool
    time_left: str
    outcome: str
    documents: list[str]
    # The viewer's own open answer task (their seat's), when they may answer now.
    answer_task: HumanTask | None
    # The seats the viewer holds (a Board member, or their alternate), and their answers.
    own_seats: list[SeatState]
    # Every seat's state, when the rules let the viewer see it yet; else empty.
    seats: list[SeatState]
    answers_shown: bool
    extension_task: HumanTask | None


@dataclass(frozen=True)
class DecisionPage:
    """One decision of the register: its record, documents and each seat's answer."""

    decision: Decision
    outcome: str
    method: str
    documents: list[str]
    seats: list[SeatState]


@dataclass(frozen=True)
class MemberRow:
    """One organisation on the member register, with its focal points by kind."""

    organisation: Organisation
    name: str
    group: str
    status: str
    focal_points: dict[str, FocalPoint | None] = field(default_factory=dict)


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


def _display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    ).all()
    return {u: u if name == u else f"{name} ({u})" for u, name in rows}


def _recorded_seats(answers: list[DecisionAnswer], names: dict[str, str]) -> list[SeatState]:
    """Each seat's recorded answer or silence, in the Board's order."""
    by_seat = {a.seat: a for a in answers}
    order = [s.code for s in BOARD_SEATS] + sorted(set(by_seat) - BOARD_SEAT_CODES)
    return [
        SeatState(
            seat=code,
            name=partner_name(code),
            answered=recorded.answer != "silence",
            answer=recorded.answer,
            reason=recorded.reason,
            answered_by=names.get(recorded.answered_by or "", recorded.answered_by),
            answered_at=recorded.answered_at,
        )
        for code in order
        if (recorded := by_seat.get(code)) is not None
    ]


def _closed_seats(session: Session, answers: list[DecisionAnswer]) -> list[SeatState]:
    return _recorded_seats(answers, _display_names(session, (a.answered_by for a in answers)))


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
        everyone = _closed_seats(session, list(decision.answers))
        own_states = [s for s in everyone if s.seat in own]
        answers_shown = True
    else:
        names = _display_names(session, (t.completed_by for t in tasks))
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
        documents=document_names(decision),
        answer_task=answer_task,
        own_seats=own_states,
        seats=everyone if progress_shown else [],
        answers_shown=answers_shown,
        extension_task=extension_task,
    )


def answer_data(answer: str, reason: str | None) -> dict[str, Any]:
    """A seat's answer as the answer form of `silent_procedure` takes it."""
    data: dict[str, Any] = {"answer": answer}
    if answer == "objection" and reason and reason.strip():
        data["reason"] = reason.strip()
    return data


def _seat_task(
    session: Session, instance_id: int, participant: Participant
) -> tuple[Decision, HumanTask]:
    """The viewer's seat's answer task in the newest silent procedure, the open one first."""
    decision = latest_silent_procedure(session, instance_id)
    found = None
    if decision is not None and decision.instance_id is not None:
        found = session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == decision.instance_id,
                HumanTask.bpmn_id == ANSWER_TASK,
                HumanTask.created_at >= decision.launched_at,
                offered_clause(participant),
            )
            .order_by((HumanTask.status == "open").desc(), HumanTask.id.desc())
        ).first()
    if decision is None or found is None:
        raise NotAllowed(
            "only the Board member of a seat still to answer, or the seat's alternate, may "
            "answer this silent procedure; nothing was changed"
        )
    return decision, found


def answer_silent_procedure(
    factory: sessionmaker[Session],
    instance_id: int,
    answer: str,
    reason: str | None,
    *,
    participant: Participant,
    now: datetime,
) -> HumanTask:
    """Answer for the viewer's seat: "no objection", or "objection" with its reason.

    NotAllowed when the viewer holds no seat still to answer; TaskAlreadyDone (logged) when
    the seat has answered, the procedure closed, or its deadline passed; FormInvalid when an
    objection has no reason.
    """
    with factory() as session:
        _, task = _seat_task(session, instance_id, participant)
    if answer not in ("no_objection", "objection"):
        raise FormInvalid({"answer": "choose one of: no objection, objection"})
    return complete_task_or_log_refusal(
        factory, task.id, answer_data(answer, reason), participant=participant, now=now
    )


def decision_page(session: Session, decision_id: int) -> DecisionPage | None:
    """One decision of the register with each seat's answer or silence (None: no such one)."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        return None
    return DecisionPage(
        decision=decision,
        outcome=outcome_words(decision),
        method=METHOD_WORDS.get(decision.method, decision.method),
        documents=document_names(decision),
        seats=_closed_seats(session, list(decision.answers)),
    )


# Decisions on one page of the register: the Board takes a few dozen a year.
REGISTER_PAGE_SIZE = 50
_NEWEST_FIRST = (Decision.launched_at.desc(), Decision.id.desc())


@dataclass(frozen=True)
class RegisterRow:
    """One line of the decision register: the decision, its method and outcome in words."""

    decision: Decision
    method: str
    outcome: str


@dataclass(frozen=True)
class RegisterPage:
    """One page of the decision register, the newest decisions on page 1."""

    rows: list[RegisterRow]
    number: int
    last: int


def decision_register_page(session: Session, number: int) -> RegisterPage:
    """Page `number` of the register (a number outside 1..last gives the nearest page)."""
    total = session.scalar(select(func.count()).select_from(Decision)) or 0
    last = max(1, -(-total // REGISTER_PAGE_SIZE))
    number = min(max(number, 1), last)
    decisions = session.scalars(
        select(Decision)
        .order_by(*_NEWEST_FIRST)
        .limit(REGISTER_PAGE_SIZE)
        .offset((number - 1) * REGISTER_PAGE_SIZE)
    )
    rows = [
        RegisterRow(d, METHOD_WORDS.get(d.method, d.method), outcome_words(d)) for d in decisions
    ]
    return RegisterPage(rows, number, last)


def decision_pages(session: Session) -> list[DecisionPage]:
    """Every Board decision with its answers, the newest first (the print and the CSV)."""
    decisions = list(
        session.scalars(
            select(Decision).order_by(*_NEWEST_FIRST).options(selectinload(Decision.answers))
        )
    )
    names = _display_names(session, (a.answered_by for d in decisions for a in d.answers))
    return [
        DecisionPage(
            decision=decision,
            outcome=outcome_words(decision),
            method=METHOD_WORDS.get(decision.method, decision.method),
            documents=document_names(decision),
            seats=_recorded_seats(list(decision.answers), names),
        )
        for decision in decisions
    ]


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def decision_register_csv(session: Session) -> str:
    """The decision register as CSV: a header, then one row per decision per seat's answer
    (one row with empty answer columns for a decision without seats' answers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for page in decision_pages(session):
        d = page.decision
        common = [
            d.id,
            d.subject,
            page.method,
            d.launched_at,
            d.deadline,
            d.closed_at,
            d.outcome,
            d.outcome_reason,
            d.on_next_meeting_agenda,
            d.text_sha256,
        ]
        answers: list[list[object]] = [
            [s.name, s.answer, s.reason, s.answered_by, s.answered_at] for s in page.seats
        ]
        for own in answers or [[None] * 5]:
            writer.writerow([_csv_cell(v) for v in common + own])
    return out.getvalue()


def _group_order(group: str) -> int:
    order = list(MEMBER_GROUP_WORDS)
    return order.index(group) if group in order else len(order)


def member_register(session: Session, *, with_applicants: bool) -> list[MemberRow]:
    """The organisations on the register with their focal points, by member group and name.

    Applicants and organisations the Board did not confirm only with `with_applicants`.
    """
    query = select(Organisation)
    if not with_applicants:
        query = query.where(Organisation.is_member.is_(True))
    organisations = list(session.scalars(query))
    points: dict[str, dict[str, FocalPoint]] = {}
    for point in session.scalars(select(FocalPoint).order_by(FocalPoint.nominated_at)):
        points.setdefault(point.organisation, {})[point.kind] = point
    rows = [
        MemberRow(
            organisation=o,
            name=partner_name(o.code) if o.code in BOARD_SEAT_CODES else o.name,
            group=MEMBER_GROUP_WORDS.get(o.member_group, o.member_group.replace("_", " ")),
            status=STATUS_WORDS.get(o.status, o.status.replace("_", " ")),
            focal_points={kind: points.get(o.code, {}).get(kind) for kind in FOCAL_POINT_KINDS},
        )
        for o in organisations
    ]
    rows.sort(
        key=lambda r: (
            not r.organisation.is_member,
            _group_order(r.organisation.member_group),
            r.name,
        )
    )
    return rows
