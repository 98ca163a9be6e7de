"""The decision register: every Board decision with its outcome, documents and each seat's
answer or silence."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import Decision
from workflows.board.seats import SeatState, closed_seats, display_names, recorded_seats
from workflows.people.roles import partner_name

METHOD_WORDS = {"silent_procedure": "silent procedure", "meeting": "meeting"}
OUTCOME_REASON_WORDS = {
    "objection": "a seat objected",
    "all_no_objection": "every seat answered no objection",
    "silence_at_deadline": "silence at the deadline",
}


@dataclass(frozen=True)
class DecisionFile:
    """A file a decision was launched with, as frozen then: id, name, media type, size and
    SHA-256."""

    id: int
    name: str
    media_type: str
    size: int
    sha256: str


def _is_file(entry: object) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("id"), int) and "sha256" in entry


def file_entries(decision: Decision) -> list[DecisionFile]:
    """The files of a decision, in the order they were frozen."""
    return [
        DecisionFile(
            id=int(entry["id"]),
            name=str(entry.get("name") or ""),
            media_type=str(entry.get("media_type") or ""),
            size=int(entry.get("size") or 0),
            sha256=str(entry["sha256"]),
        )
        for entry in decision.documents or []
        if isinstance(entry, dict) and _is_file(entry)
    ]


def document_names(decision: Decision) -> list[str]:
    """The documents a decision only named (records made before documents were files):
    names, or {name, url} entries."""
    names = []
    for document in decision.documents or []:
        if _is_file(document):
            continue
        if isinstance(document, dict):
            names.append(str(document.get("name") or document.get("url") or "(unnamed)"))
        else:
            names.append(str(document))
    return names


def _verdict(outcome: str | None) -> str:
    return (outcome or "").replace("_", " ")


def objection_words(decision: Decision) -> str:
    """Who objected and why: "the objection of Kosovo*, <reason>"."""
    objections = [a for a in decision.answers if a.answer == "objection"]
    if not objections:
        return "an objection"
    return "; ".join(
        f"the objection of {partner_name(a.seat)}"
        + (f" (concerning {', '.join(a.concerns)})" if a.concerns else "")
        + f", {a.reason}"
        for a in objections
    )


def outcome_words(decision: Decision) -> str:
    """The outcome in plain words, with its reason; for a broken silent procedure, what
    followed (the meeting's decision, or the withdrawal)."""
    if decision.outcome is None:
        return "open: the Board is deciding"
    if decision.outcome == "silence_broken":
        broken = f"silence broken by {objection_words(decision)}"
        then = " Then" if broken.endswith((".", "!", "?")) else ". Then"
        followed_by = decision.followed_by
        if followed_by is not None:
            return f"{broken}{then} {outcome_words(followed_by)}"
        if decision.final_outcome == "withdrawn":
            return f"{broken}{then} withdrawn by the Secretariat: {decision.withdrawal_reason}"
        return broken
    if decision.outcome == "withdrawn":
        who = f" by {decision.recorded_by}" if decision.recorded_by else ""
        why = f": {decision.withdrawal_reason}" if decision.withdrawal_reason else ""
        return f"withdrawn{who} before the Board decided{why}"
    verdict = _verdict(decision.outcome)
    reason = decision.outcome_reason or ""
    if decision.method == "meeting" or reason.startswith("meeting"):
        return f"{verdict} at a {reason}" if reason else f"{verdict} at a meeting"
    if decision.outcome == "withdrawn":
        return verdict
    because = OUTCOME_REASON_WORDS.get(reason, reason.replace("_", " "))
    return f"{verdict}: {because}" if because else verdict


def final_words(decision: Decision) -> str:
    """The Board's final outcome on the matter, in plain words."""
    if decision.final_outcome is not None:
        return _verdict(decision.final_outcome)
    if decision.outcome == "silence_broken":
        return "not yet: the matter goes to the next Board meeting"
    return "not yet: the Board is deciding"


@dataclass(frozen=True)
class DecisionPage:
    """One decision of the register: its record, documents and each seat's answer."""

    decision: Decision
    outcome: str
    final: str
    method: str
    # Files, and (on older records) documents that were only named.
    files: list[DecisionFile]
    documents: list[str]
    seats: list[SeatState]


def decision_page(session: Session, decision_id: int) -> DecisionPage | None:
    """One decision of the register with each seat's answer or silence (None: no such one)."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        return None
    return DecisionPage(
        decision=decision,
        outcome=outcome_words(decision),
        final=final_words(decision),
        method=METHOD_WORDS.get(decision.method, decision.method),
        files=file_entries(decision),
        documents=document_names(decision),
        seats=closed_seats(session, list(decision.answers)),
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
    final: str


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
        .options(selectinload(Decision.followed_by))
        .limit(REGISTER_PAGE_SIZE)
        .offset((number - 1) * REGISTER_PAGE_SIZE)
    )
    rows = [
        RegisterRow(d, METHOD_WORDS.get(d.method, d.method), outcome_words(d), final_words(d))
        for d in decisions
    ]
    return RegisterPage(rows, number, last)


def decision_pages(session: Session) -> list[DecisionPage]:
    """Every Board decision with its answers, the newest first (the print and the CSV)."""
    decisions = list(
        session.scalars(
            select(Decision)
            .order_by(*_NEWEST_FIRST)
            .options(selectinload(Decision.answers), selectinload(Decision.followed_by))
        )
    )
    names = display_names(session, (a.answered_by for d in decisions for a in d.answers))
    return [
        DecisionPage(
            decision=decision,
            outcome=outcome_words(decision),
            final=final_words(decision),
            method=METHOD_WORDS.get(decision.method, decision.method),
            files=file_entries(decision),
            documents=document_names(decision),
            seats=recorded_seats(list(decision.answers), names),
        )
        for decision in decisions
    ]
