"""Board decisions as the procedures record them: the service tasks of `silent_procedure` and
`board_decision`, and reading the decision register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import EngineError, Refused
from engine.instances.task_lookup import guids_within
from engine.sandbox.dates import parse_moment
from engine.services import ServiceCall, register
from models import Decision, DecisionAnswer, DecisionItem, Document, HumanTask
from models.decisions import FINAL_OUTCOMES
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
# The field of the meeting's form naming the items on a list the Board did not confirm.
NOT_CONFIRMED_FIELD = "not_confirmed"


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
    decision.items = list_items(params.get("items"))
    context.session.add(decision)
    context.session.flush()
    return {
        "id": decision.id,
        "text_sha256": decision.text_sha256,
        "frozen_sha256": decision.frozen_sha256,
    }


def list_items(listed: Any) -> list[DecisionItem]:
    """The items of a list the Board decides on, each on its own, from a procedure's
    `items` (a list of {key, title}); none for a single matter."""
    items: list[DecisionItem] = []
    for position, entry in enumerate(listed or []):
        if not isinstance(entry, dict) or not str(entry.get("key") or "").strip():
            raise EngineError("each item on a list the Board decides on needs a key")
        key = str(entry["key"]).strip()
        if any(item.key == key for item in items):
            raise EngineError(f"'{key}' is twice on the list the Board decides on")
        title = str(entry.get("title") or key)[:500]
        items.append(DecisionItem(position=position, key=key, title=title))
    return items


def final_items(decision: Decision) -> dict[str, str]:
    """Each item's final outcome (confirmed, not_confirmed, withdrawn), by key, once the
    Board's final outcome on the matter is known: a broken silent procedure's items that
    silence confirmed, then what the meeting that followed gave the others."""
    found: dict[str, str] = {}
    for earlier in decision.follows:
        found |= {i.key: "confirmed" for i in earlier.items if i.outcome == "confirmed"}
    for item in decision.items:
        if item.outcome == "silence_broken":
            if decision.final_outcome == "withdrawn":
                found[item.key] = "withdrawn"
        elif item.outcome is not None:
            found[item.key] = item.outcome
    return found


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
    session: Session,
    decision: Decision,
    outcome: str,
    *,
    actor: str,
    now: datetime,
    tell: bool = True,
) -> None:
    """The Board's final outcome on a matter is known: the one place it is written.

    `decision` is the last record of the matter; a broken silent procedure it follows gets
    the same final outcome. Audited here, in the unit of work of the step that decided, and
    told to the Board and the Secretariat (unless `tell` is False: a withdrawn procedure
    tells those it concerns itself).
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
    if tell:
        tell_of_the_outcome(session, decision, outcome, now)


def objections_of(decision: Decision) -> list[dict[str, Any]]:
    """Each objection of a silent procedure: the seat, its reason and what it concerns
    (the keys of the items it named; None: the whole proposal)."""
    return [
        {"seat": a.seat, "reason": a.reason}
        | ({"concerns": a.concerns} if a.concerns is not None else {})
        for a in decision.answers
        if a.answer == "objection"
    ]


def _named_keys(submitted: dict[str, Any], keys: list[str]) -> list[str] | None:
    """The items an objection named, in the list's order; None when it concerns them all
    (it named none, or it names every one)."""
    named = {str(k) for k in submitted.get("concerns") or []}
    chosen = [k for k in keys if k in named]
    return chosen if chosen and len(chosen) < len(keys) else None


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
    # Only an objection that closed the procedure early leaves seats without an answer.
    deadline_passed = decision.deadline is not None and decision.deadline <= context.now
    unanswered = "silence" if deadline_passed or not objected else "no_answer"
    keys = [item.key for item in decision.items]
    broken: set[str] = set()
    for seat in (s.code for s in BOARD_SEATS):
        task = given.get(seat)
        submitted = (task.submitted or {}) if task else {}
        answer = str(submitted.get("answer") or unanswered)
        concerns = _named_keys(submitted, keys) if answer == "objection" else None
        if answer == "objection":
            broken |= set(concerns if concerns is not None else keys)
        decision.answers.append(
            DecisionAnswer(
                seat=seat,
                answer=answer,
                reason=submitted.get("reason") if answer == "objection" else None,
                answered_by=task.completed_by if task else None,
                answered_at=task.completed_at if task else None,
                concerns=concerns,
            )
        )
    breaks_silence = bool(call.params.get("objection_breaks_silence"))
    # Each item on a list: the ones an objection named go to the meeting; silence at the
    # deadline (or every seat's answer) confirms the others.
    for item in decision.items:
        confirmed = item.key not in broken
        item.outcome = (
            "confirmed" if confirmed else "silence_broken" if breaks_silence else "not_confirmed"
        )
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
        "objections": objections_of(decision),
        "items": final_items(decision),
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
        "objections": objections_of(decision),
        "items": final_items(decision),
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
    items = _meeting_items(params, earlier)
    _give_meeting_outcomes(items, outcome, params.get("not_confirmed"))
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
        items=items,
    )
    context.session.add(decision)
    context.session.flush()
    if earlier is not None:
        earlier.followed_by = decision
        earlier.on_next_meeting_agenda = False
        context.session.flush()
    final_outcome_recorded(context.session, decision, outcome, actor=context.actor, now=context.now)
    return {
        "decision_id": decision.id,
        "outcome": outcome,
        "objections": [],
        "items": final_items(decision),
    }


def _meeting_items(params: Any, earlier: Decision | None) -> list[DecisionItem]:
    """What the meeting decides, item by item: after a broken silent procedure, the items
    the objections named; else the list the procedure put to the Board."""
    if earlier is None:
        return list_items(params.get("items"))
    pending = [
        {"key": i.key, "title": i.title} for i in earlier.items if i.outcome == "silence_broken"
    ]
    return list_items(pending)


def _give_meeting_outcomes(items: list[DecisionItem], outcome: str, not_confirmed: Any) -> None:
    """Each item's outcome at the meeting: not adopted, none is confirmed; adopted, each is
    but the ones the Secretariat records as not confirmed."""
    keys = [item.key for item in items]
    refused = [str(k) for k in not_confirmed or []]
    unknown = [k for k in refused if k not in keys]
    if unknown and not keys:
        raise Refused(NOT_CONFIRMED_FIELD, "There is no list in this decision: leave it empty.")
    if unknown:
        raise Refused(
            NOT_CONFIRMED_FIELD,
            f"{', '.join(unknown)}: not one of the applications the meeting decides on here "
            f"({', '.join(keys)}).",
        )
    if items and outcome == "adopted" and set(keys) <= set(refused):
        raise Refused(
            NOT_CONFIRMED_FIELD,
            "The Board confirmed none of them: record the outcome as not adopted.",
        )
    for item in items:
        confirmed = outcome == "adopted" and item.key not in refused
        item.outcome = "confirmed" if confirmed else "not_confirmed"


def withdraw_open_decisions(
    session: Session, instance_id: int, *, actor: str, reason: str, now: datetime
) -> list[Decision]:
    """Close the decisions the Board was still taking in a procedure being withdrawn: outcome
    `withdrawn`, with who withdrew it, when and why, and the answers seats had given by then
    (a seat that had not answered is not recorded: no deadline passed, so no silence)."""
    undecided = list(
        session.scalars(
            select(Decision).where(
                Decision.instance_id == instance_id, Decision.final_outcome.is_(None)
            )
        )
    )
    open_ones = [decision for decision in undecided if decision.closed_at is None]
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
    # A silent procedure an objection broke, waiting for the meeting, is withdrawn too.
    for decision in undecided:
        decision.withdrawal_reason = decision.withdrawal_reason or reason
        final_outcome_recorded(session, decision, "withdrawn", actor=actor, now=now, tell=False)
    session.flush()
    return undecided


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
