"""Board decisions as the procedures record them: the service tasks of `silent_procedure` and
`board_decision`, and reading the decision register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError, Refused
from engine.instances.task_lookup import guids_within
from engine.sandbox.dates import parse_moment
from engine.services import ServiceCall, register
from models import Decision, DecisionAnswer, Document, HumanTask
from workflows.board.frozen import frozen_hash, text_hash
from workflows.board.outcome_mail import tell_of_the_outcome
from workflows.inbox.attaching import attach_to_instance
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import holders_of_role
from workflows.people.roles import BOARD_SEATS

# The BPMN id of the task each seat answers in `silent_procedure` (a contract with the diagram).
ANSWER_TASK = "answer_silent_procedure"
ANSWERS_SUBPROCESS = "board_answers"
BOARD_MEMBER = "board_member"
# The field of the extension's form that the new deadline is typed into.
EXTENSION_FIELD = "new_deadline"


def document_entry(document: Document) -> dict[str, Any]:
    """A document as a decision record keeps it: what identifies the file for good."""
    return {
        "id": document.id,
        "name": document.filename,
        "media_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }


@dataclass(frozen=True)
class FrozenDocuments:
    """What a decision record keeps of its documents, and the hash over its text and them."""

    entries: list[object]
    frozen_sha256: str | None


def _frozen_documents(call: ServiceCall, text: str) -> FrozenDocuments:
    """The documents a decision goes with, attached to its procedure (the starter's uploads
    are attached here if the start has not done so yet), in the order given.

    A procedure started before documents were files may still carry their names: they are
    recorded as names, and no hash can cover them."""
    context = call.context
    given = call.params.get("documents") or []
    if isinstance(given, list) and given and all(isinstance(name, str) for name in given):
        return FrozenDocuments(list(given), None)
    documents = attach_to_instance(
        context.session, given, instance_id=context.instance_id, now=context.now
    )
    return FrozenDocuments(
        [document_entry(d) for d in documents], frozen_hash(text, [d.sha256 for d in documents])
    )


def _moment(value: Any, what: str) -> datetime | None:
    return None if value in (None, "") else parse_moment(value, what)


def _decision(session: Session, decision_id: Any) -> Decision:
    found = session.get(Decision, int(decision_id))
    if found is None:
        raise EngineError(f"there is no decision record {decision_id}")
    return found


@register("board_seats")
def board_seats(call: ServiceCall) -> dict[str, str]:
    """Who sits on the Board: one seat per WB partner and the European Commission."""
    return {seat.code: seat.code for seat in BOARD_SEATS}


@register("open_decision")
def open_decision(call: ServiceCall) -> dict[str, Any]:
    """Open the decision record; the proposal's text and its documents are frozen by one
    hash from here on (workflows/board/frozen.py)."""
    params, context = call.params, call.context
    text = str(params.get("proposal") or "")
    if not text.strip():
        raise Refused(
            "proposal", "The proposal has no text: write what the Board is asked to decide."
        )
    documents = _frozen_documents(call, text)
    decision = Decision(
        instance_id=context.instance_id,
        method=str(params.get("method") or "silent_procedure"),
        subject=str(params.get("subject") or "").strip() or "(no subject)",
        text=text,
        text_sha256=text_hash(text),
        documents=documents.entries,
        frozen_sha256=documents.frozen_sha256,
        launched_at=context.now,
        deadline=_moment(params.get("deadline"), "deadline"),
    )
    context.session.add(decision)
    context.session.flush()
    return {
        "id": decision.id,
        "text_sha256": decision.text_sha256,
        "frozen_sha256": decision.frozen_sha256,
    }


@register("extend_decision_deadline")
def extend_decision_deadline(call: ServiceCall) -> dict[str, Any]:
    """Record a new, later deadline for a silent procedure (once; the diagram allows one)."""
    decision = _decision(call.context.session, call.params["decision_id"])
    new_deadline = _moment(call.params.get("deadline"), "new deadline")
    if new_deadline is None:
        raise EngineError("give the new deadline")
    if decision.closed_at is not None:
        raise EngineError("the silent procedure is closed; its deadline can no longer change")
    if decision.deadline is not None and new_deadline <= decision.deadline:
        current = decision.deadline.astimezone(UTC)
        raise Refused(
            EXTENSION_FIELD,
            f"The new deadline must be later than the current one: after {current.day} "
            f"{current:%B %Y, %H:%M} UTC.",
        )
    if new_deadline <= call.context.now:
        raise Refused(EXTENSION_FIELD, "The new deadline must be in the future.")
    decision.deadline = new_deadline
    decision.deadline_extended = True
    _tell_the_board_of_the_extension(call, decision)
    return {"id": decision.id, "deadline": new_deadline.isoformat()}


def _tell_the_board_of_the_extension(call: ServiceCall, decision: Decision) -> None:
    """Every Board member (alternates too) is told of the new deadline, in this unit of work."""
    assert decision.deadline is not None
    link = page_link(f"/silent-procedures/{decision.instance_id}")
    for member in holders_of_role(call.context.session, BOARD_MEMBER):
        enqueue(
            call.context.session,
            member,
            subject=f"Deadline extended: {decision.subject}",
            body=(
                f"The Secretariat has extended the deadline of the silent procedure "
                f"'{decision.subject}' to {when(decision.deadline)}.\n\n"
                f"Silence until then still counts as agreement.\n\nThe procedure: {link}\n"
            ),
            kind="notice",
            now=call.context.now,
            instance_id=decision.instance_id,
        )


def _answers_given(call: ServiceCall, decision: Decision) -> list[HumanTask]:
    # This run's own answer tasks, by their ids: a relaunched procedure never counts the
    # answers of an earlier round.
    guids = guids_within(call.task, ANSWERS_SUBPROCESS, ANSWER_TASK)
    if not guids:
        return []
    return list(
        call.context.session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == decision.instance_id,
                HumanTask.task_guid.in_(guids),
                HumanTask.status == "completed",
            )
            .order_by(HumanTask.completed_at)
        )
    )


@register("close_silent_procedure")
def close_silent_procedure(call: ServiceCall) -> dict[str, Any]:
    """Close a silent procedure: each seat's answer or silence, and the outcome.

    One objection: not adopted, and the matter goes on the next meeting's agenda. Otherwise
    adopted, whether every seat answered or silence ran out the deadline.
    """
    context = call.context
    decision = _decision(context.session, call.params["decision_id"])
    if decision.closed_at is not None:
        raise EngineError("this silent procedure was closed already")
    given = {task.organisation: task for task in _answers_given(call, decision)}
    objections: list[dict[str, Any]] = []
    for seat in (s.code for s in BOARD_SEATS):
        task = given.get(seat)
        submitted = (task.submitted or {}) if task else {}
        answer = str(submitted.get("answer") or "silence")
        reason = submitted.get("reason") if answer == "objection" else None
        decision.answers.append(
            DecisionAnswer(
                seat=seat,
                answer=answer,
                reason=reason,
                answered_by=task.completed_by if task else None,
                answered_at=task.completed_at if task else None,
            )
        )
        if answer == "objection":
            objections.append({"seat": seat, "reason": reason})
    adopted = not objections
    decision.outcome = "adopted" if adopted else "not_adopted"
    decision.outcome_reason = (
        "objection"
        if not adopted
        else "all_no_objection"
        if len(given) == len(BOARD_SEATS)
        else "silence_at_deadline"
    )
    decision.closed_at = context.now
    decision.recorded_by = context.actor  # whose answer closed it, or the scheduler
    decision.on_next_meeting_agenda = not adopted
    tell_of_the_outcome(context.session, decision, context.now)
    return {
        "decision_id": decision.id,
        "outcome": decision.outcome,
        "outcome_reason": decision.outcome_reason,
        "objections": objections,
    }


@register("record_meeting_decision")
def record_meeting_decision(call: ServiceCall) -> dict[str, Any]:
    """Record a decision the Board took at a meeting, with its minutes."""
    params, context = call.params, call.context
    outcome = str(params.get("outcome") or "")
    if outcome not in ("adopted", "not_adopted"):
        raise EngineError(f"'{outcome}' is not an outcome; it is adopted or not_adopted")
    text = str(params.get("proposal") or "")
    meeting = params.get("meeting_date")
    documents = _frozen_documents(call, text)
    decision = Decision(
        instance_id=context.instance_id,
        method="meeting",
        subject=str(params.get("subject") or "").strip() or "(no subject)",
        text=text,
        text_sha256=text_hash(text),
        documents=documents.entries,
        frozen_sha256=documents.frozen_sha256,
        launched_at=context.now,
        closed_at=context.now,
        outcome=outcome,
        outcome_reason=f"meeting of {meeting}" if meeting else "meeting",
        minutes=str(params.get("minutes") or ""),
        recorded_by=context.actor,
    )
    context.session.add(decision)
    context.session.flush()
    tell_of_the_outcome(context.session, decision, context.now)
    return {"decision_id": decision.id, "outcome": outcome, "objections": []}


def withdraw_open_decisions(
    session: Session, instance_id: int, *, actor: str, reason: str, now: datetime
) -> list[Decision]:
    """Close the decisions the Board was still taking in a procedure being withdrawn: outcome
    `withdrawn`, with who withdrew it, when and why, and the answers seats had given by then
    (a seat that had not answered is not recorded: no deadline passed, so no silence)."""
    open_ones = list(
        session.scalars(
            select(Decision).where(
                Decision.instance_id == instance_id, Decision.closed_at.is_(None)
            )
        )
    )
    for decision in open_ones:
        for task in _answers_so_far(session, decision):
            submitted = task.submitted or {}
            answer = str(submitted.get("answer") or "")
            decision.answers.append(
                DecisionAnswer(
                    seat=str(task.organisation),
                    answer=answer,
                    reason=submitted.get("reason") if answer == "objection" else None,
                    answered_by=task.completed_by,
                    answered_at=task.completed_at,
                )
            )
        decision.outcome = decision.outcome_reason = "withdrawn"
        decision.withdrawal_reason = reason
        decision.closed_at = now
        decision.recorded_by = actor
    session.flush()
    return open_ones


def _answers_so_far(session: Session, decision: Decision) -> list[HumanTask]:
    # The seats' answers since this silent procedure was launched (one per seat).
    return list(
        session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == decision.instance_id,
                HumanTask.bpmn_id == ANSWER_TASK,
                HumanTask.status == "completed",
                HumanTask.organisation.is_not(None),
                HumanTask.created_at >= decision.launched_at,
            )
            .order_by(HumanTask.completed_at)
        )
    )


def decision_register(session: Session) -> list[Decision]:
    """Every Board decision, the newest first."""
    return list(session.scalars(select(Decision).order_by(Decision.launched_at.desc())))
