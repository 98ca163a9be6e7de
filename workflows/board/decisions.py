"""Board decisions as the procedures record them: the service tasks of `silent_procedure` and
`board_decision`, and reading the decision register."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import EngineError, Refused
from engine.instances.task_lookup import guids_within
from engine.sandbox.dates import parse_moment
from engine.services import ServiceCall, register
from models import Decision, DecisionAnswer, HumanTask
from models.decisions import FINAL_OUTCOMES
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import holders_of_role
from workflows.people.roles import BOARD_SEATS

# The BPMN id of the task each seat answers in `silent_procedure` (a contract with the diagram).
ANSWER_TASK = "answer_silent_procedure"
ANSWERS_SUBPROCESS = "board_answers"
BOARD_MEMBER = "board_member"
# The field of the extension's form that the new deadline is typed into.
EXTENSION_FIELD = "new_deadline"


def text_hash(text: str) -> str:
    """The SHA-256 that freezes a proposal's text at launch."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    """Open the decision record; the proposal's text is frozen by its hash from here on."""
    params, context = call.params, call.context
    text = str(params.get("proposal") or "")
    if not text.strip():
        raise Refused(
            "proposal", "The proposal has no text: write what the Board is asked to decide."
        )
    documents = params.get("documents") or []
    decision = Decision(
        instance_id=context.instance_id,
        method=str(params.get("method") or "silent_procedure"),
        subject=str(params.get("subject") or "").strip() or "(no subject)",
        text=text,
        text_sha256=text_hash(text),
        documents=list(documents) if isinstance(documents, list) else [documents],
        launched_at=context.now,
        deadline=_moment(params.get("deadline"), "deadline"),
    )
    context.session.add(decision)
    context.session.flush()
    return {"id": decision.id, "text_sha256": decision.text_sha256}


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


def final_outcome_recorded(
    session: Session, decision: Decision, outcome: str, *, actor: str, now: datetime
) -> None:
    """The Board's final outcome on a matter is known: the one place it is written.

    `decision` is the last record of the matter; a broken silent procedure it follows gets
    the same final outcome. Audited here, in the unit of work of the step that decided.
    """
    if outcome not in FINAL_OUTCOMES:
        raise EngineError(f"'{outcome}' is not a final outcome: {', '.join(FINAL_OUTCOMES)}")
    decision.final_outcome = outcome
    for earlier in decision.follows:
        earlier.final_outcome = outcome
    audit.record(
        session,
        kind="board.decided",
        actor=actor,
        now=now,
        instance_id=decision.instance_id,
        payload={
            "decision_id": decision.id,
            "follows": [earlier.id for earlier in decision.follows],
            "subject": decision.subject,
            "final_outcome": outcome,
        },
    )


def _objections(decision: Decision) -> list[dict[str, Any]]:
    return [
        {"seat": a.seat, "reason": a.reason} for a in decision.answers if a.answer == "objection"
    ]


@register("close_silent_procedure")
def close_silent_procedure(call: ServiceCall) -> dict[str, Any]:
    """Close a silent procedure: each seat's answer or silence, and the outcome.

    No objection: adopted, whether every seat answered or silence ran out the deadline. One
    objection breaks the silence: the matter is not decided and goes on the next meeting's
    agenda (`objection_breaks_silence`, as `board_decision` then takes it there); a diagram
    that does not say so ends the matter as not adopted. Seats that had not answered when an
    objection closed it early gave no answer: their silence counts only once the deadline
    passed.
    """
    context = call.context
    decision = _decision(context.session, call.params["decision_id"])
    if decision.closed_at is not None:
        raise EngineError("this silent procedure was closed already")
    given = {task.organisation: task for task in _answers_given(call, decision)}
    objected = any((t.submitted or {}).get("answer") == "objection" for t in given.values())
    unanswered = "no_answer" if objected else "silence"
    for seat in (s.code for s in BOARD_SEATS):
        task = given.get(seat)
        submitted = (task.submitted or {}) if task else {}
        answer = str(submitted.get("answer") or unanswered)
        decision.answers.append(
            DecisionAnswer(
                seat=seat,
                answer=answer,
                reason=submitted.get("reason") if answer == "objection" else None,
                answered_by=task.completed_by if task else None,
                answered_at=task.completed_at if task else None,
            )
        )
    breaks_silence = bool(call.params.get("objection_breaks_silence"))
    decision.outcome = (
        "adopted" if not objected else "silence_broken" if breaks_silence else "not_adopted"
    )
    decision.outcome_reason = (
        "objection"
        if objected
        else "all_no_objection"
        if len(given) == len(BOARD_SEATS)
        else "silence_at_deadline"
    )
    decision.closed_at = context.now
    decision.recorded_by = context.actor  # whose answer closed it, or the scheduler
    decision.on_next_meeting_agenda = objected
    context.session.flush()
    if decision.outcome != "silence_broken":
        final_outcome_recorded(
            context.session, decision, decision.outcome, actor=context.actor, now=context.now
        )
    return {
        "decision_id": decision.id,
        "outcome": decision.outcome,
        "outcome_reason": decision.outcome_reason,
        "objections": _objections(decision),
    }


@register("withdraw_board_matter")
def withdraw_board_matter(call: ServiceCall) -> dict[str, Any]:
    """The Secretariat withdraws a matter a broken silent procedure left for the meeting."""
    context = call.context
    decision = _decision(context.session, call.params["decision_id"])
    if decision.outcome != "silence_broken" or decision.final_outcome is not None:
        raise EngineError("only a matter whose silent procedure was broken can be withdrawn here")
    reason = str(call.params.get("reason") or "").strip()
    if not reason:
        raise Refused("withdrawal_reason", "Say why the matter is withdrawn.")
    decision.withdrawal_reason = reason
    decision.on_next_meeting_agenda = False
    final_outcome_recorded(
        context.session, decision, "withdrawn", actor=context.actor, now=context.now
    )
    return {
        "decision_id": decision.id,
        "outcome": "withdrawn",
        "objections": _objections(decision),
    }


@register("record_meeting_decision")
def record_meeting_decision(call: ServiceCall) -> dict[str, Any]:
    """Record a decision the Board took at a meeting, with its minutes; after a broken silent
    procedure (`follows`), the meeting's decision is that matter's final outcome."""
    params, context = call.params, call.context
    outcome = str(params.get("outcome") or "")
    if outcome not in ("adopted", "not_adopted"):
        raise EngineError(f"'{outcome}' is not an outcome; it is adopted or not_adopted")
    earlier = None
    if params.get("follows") is not None:
        earlier = _decision(context.session, params["follows"])
        if earlier.outcome != "silence_broken" or earlier.final_outcome is not None:
            raise EngineError(f"decision {earlier.id} does not wait for a Board meeting")
    text = str(params.get("proposal") or "")
    meeting = params.get("meeting_date")
    decision = Decision(
        instance_id=context.instance_id,
        method="meeting",
        subject=str(params.get("subject") or "").strip() or "(no subject)",
        text=text,
        text_sha256=text_hash(text),
        documents=list(params.get("documents") or []),
        launched_at=context.now,
        closed_at=context.now,
        outcome=outcome,
        outcome_reason=f"meeting of {meeting}" if meeting else "meeting",
        minutes=str(params.get("minutes") or ""),
        recorded_by=context.actor,
    )
    context.session.add(decision)
    context.session.flush()
    if earlier is not None:
        earlier.followed_by = decision
        earlier.on_next_meeting_agenda = False
        context.session.flush()
    final_outcome_recorded(context.session, decision, outcome, actor=context.actor, now=context.now)
    return {"decision_id": decision.id, "outcome": outcome, "objections": []}


def decision_register(session: Session) -> list[Decision]:
    """Every Board decision, the newest first."""
    return list(session.scalars(select(Decision).order_by(Decision.launched_at.desc())))
