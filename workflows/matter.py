"""The matter a task's page shows above its form, as its step's `shows` property names it:
the proposal put to the Board and its documents; the applicant's expression of interest;
the applications on a Board list; the partner's mapped needs in the pillar; the earlier
drafts of a procedure (the answers its role gave on earlier steps); the draft calendar or the
proposed report structure a WB partner is asked to agree, and each partner's answer to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from engine.diagrams.forms import load_form
from engine.instances.loading import load
from engine.instances.task_lookup import find_task
from models import Decision, Document, HumanTask, Need, ProcessInstance
from workflows.board.membership import CRITERIA, applications_on_list, partner_type_words

APPLICANT = "applicant"
# At most this many earlier steps are shown as drafts, newest first.
DRAFTS_SHOWN = 10
# What the WB partners are asked to agree: the form the Secretariat proposed it on, and the
# data that collects the partners' answers (the multi-instance step's output).
AGREEMENTS = {
    "calendar": ("response_mapping_calendar.json", "calendar_answers"),
    "structure": ("response_mapping_structure.json", "structure_answers"),
}
ANSWERS_SUFFIX = "_answers"


@dataclass(frozen=True)
class MatterDocument:
    """A document of the proposal: a file kept by the system, or (old records) a name."""

    name: str
    document_id: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class Proposal:
    """What is put to the Board: its subject, its text and its documents."""

    subject: str
    text: str
    documents: list[MatterDocument]


@dataclass(frozen=True)
class StepAnswers:
    """What someone submitted on an earlier step, with the form to read it by."""

    step: str
    completed_by: str | None
    completed_at: datetime | None
    schema: dict[str, Any] | None
    submitted: Mapping[str, Any]


@dataclass(frozen=True)
class ListedApplication:
    """An application on a Board list, with the Secretariat's assessment of each criterion."""

    instance_id: int
    name: str
    code: str
    kind: str
    assessment: list[tuple[str, str, str]]


@dataclass(frozen=True)
class PartnerAnswer:
    """A WB partner's answer to what it was asked to agree: "agree", "comment" (with the
    comment) or "not_answered" when the agreement deadline passed first."""

    partner_name: str
    answer: str
    comment: str


@dataclass(frozen=True)
class Matter:
    """What one task's page shows above its form; `kind` is the step's `shows` property."""

    kind: str
    proposal: Proposal | None = None
    answers: list[StepAnswers] = field(default_factory=list)
    applications: list[ListedApplication] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    partner_answers: list[PartnerAnswer] = field(default_factory=list)


def task_matter(session: Session, task: HumanTask) -> Matter | None:
    """The matter the task's step says its page shows; None for a step that shows none."""
    if task.shows == "proposal":
        return Matter("proposal", proposal=_proposal(session, task))
    if task.shows == "application":
        return Matter("application", answers=_answers(session, task, role=APPLICANT))
    if task.shows == "list":
        return Matter("list", applications=_applications(session, task))
    if task.shows == "mapped_needs":
        return Matter("mapped_needs", needs=_mapped_needs(session, task))
    if task.shows == "drafts":
        return Matter("drafts", answers=_answers(session, task, role=task.role))
    if task.shows in AGREEMENTS:
        return Matter(task.shows, answers=_proposed(session, task, task.shows))
    subject = (task.shows or "").removesuffix(ANSWERS_SUFFIX)
    if subject in AGREEMENTS:
        return Matter(
            task.shows or "",
            answers=_proposed(session, task, subject),
            partner_answers=_partner_answers(session, task, subject),
        )
    return None


def _task_data(session: Session, task: HumanTask) -> dict[str, Any]:
    """The data at the task as the workflow holds it (empty once the workflow let it go)."""
    found = find_task(load(session, task.instance_id), task.task_guid)
    return dict(found.data) if found is not None else {}


def _documents(session: Session, given: Any) -> list[MatterDocument]:
    """The proposal's documents: ids of files kept by the system, entries of a decision
    record ({id, name, size}), or the names of old records."""
    found: list[MatterDocument] = []
    for entry in given if isinstance(given, list) else []:
        if isinstance(entry, str):
            found.append(MatterDocument(entry))
        elif isinstance(entry, Mapping):
            identifier, size = entry.get("id"), entry.get("size")
            found.append(
                MatterDocument(
                    str(entry.get("name") or ""),
                    identifier if isinstance(identifier, int) else None,
                    size if isinstance(size, int) else None,
                )
            )
        elif isinstance(entry, int) and (document := session.get(Document, entry)) is not None:
            found.append(MatterDocument(document.filename, document.id, document.size))
    return found


def _decision_proposal(session: Session, decision: Decision) -> Proposal:
    return Proposal(decision.subject, decision.text, _documents(session, decision.documents))


def _proposal(session: Session, task: HumanTask) -> Proposal | None:
    """The proposal as frozen in its decision record once the Board is asked, else as the
    Secretariat put it (the data at the task); for a closed step, the procedure's last record."""
    data = _task_data(session, task)
    record = data.get("decision")
    if isinstance(record, Mapping) and isinstance(record.get("id"), int):
        decision = session.get(Decision, record["id"])
        if decision is not None:
            return _decision_proposal(session, decision)
    if data.get("subject") or data.get("proposal"):
        return Proposal(
            str(data.get("subject") or ""),
            str(data.get("proposal") or ""),
            _documents(session, data.get("documents")),
        )
    latest = session.scalars(
        select(Decision)
        .where(Decision.instance_id == task.instance_id)
        .order_by(Decision.id.desc())
        .limit(1)
    ).first()
    return _decision_proposal(session, latest) if latest is not None else None


def _answers(session: Session, task: HumanTask, *, role: str) -> list[StepAnswers]:
    """What the holders of `role` submitted on this procedure's steps before this task,
    newest first."""
    files = session.get_one(ProcessInstance, task.instance_id).definition.files
    done = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == task.instance_id,
            HumanTask.role == role,
            HumanTask.status == "completed",
            HumanTask.id != task.id,
            HumanTask.created_at <= task.created_at,
        )
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(DRAFTS_SHOWN)
    )
    return [
        StepAnswers(
            step.name,
            step.completed_by,
            step.completed_at,
            load_form(files, step.form) if step.form in files else None,
            step.submitted or {},
        )
        for step in done
        if step.submitted
    ]


def _applications(session: Session, task: HumanTask) -> list[ListedApplication]:
    """The applications on the Board list this application leads, with their assessments."""
    listed = applications_on_list(session, task.instance_id, _task_data(session, task))
    return [
        ListedApplication(
            instance_id,
            str(data.get("organisation_name") or ""),
            str(data.get("organisation_code") or ""),
            partner_type_words(data),
            [
                (
                    words,
                    "meets" if data.get(key) == "meets" else "does not meet",
                    str(data.get(f"{key}_comment") or ""),
                )
                for key, words in CRITERIA.items()
            ],
        )
        for instance_id, data in listed
    ]


def _mapped_needs(session: Session, task: HumanTask) -> list[Need]:
    """The partner's needs in the pillar (the task's scope), open ones first."""
    if task.organisation is None or task.pillar is None:
        return []
    still_open = case((Need.status == "open", 0), (Need.status == "partly_addressed", 1), else_=2)
    return list(
        session.scalars(
            select(Need)
            .where(Need.partner == task.organisation, Need.pillar == task.pillar)
            .order_by(still_open, Need.id)
        )
    )


def _proposed(session: Session, task: HumanTask, subject: str) -> list[StepAnswers]:
    """What the Secretariat last proposed for `subject` (the calendar, the structure) in
    this procedure before this task, as it submitted it."""
    form = AGREEMENTS[subject][0]
    files = session.get_one(ProcessInstance, task.instance_id).definition.files
    step = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == task.instance_id,
            HumanTask.form == form,
            HumanTask.status == "completed",
            HumanTask.created_at <= task.created_at,
        )
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(1)
    ).first()
    if step is None or not step.submitted:
        return []
    return [
        StepAnswers(
            step.name,
            step.completed_by,
            step.completed_at,
            load_form(files, form) if form in files else None,
            step.submitted,
        )
    ]


def _partner_answers(session: Session, task: HumanTask, subject: str) -> list[PartnerAnswer]:
    """Each WB partner's answer, as the procedure collected them for the task."""
    collected = _task_data(session, task).get(AGREEMENTS[subject][1])
    entries: list[Any] = []
    if isinstance(collected, Mapping):
        entries = list(collected.values())
    elif isinstance(collected, list):
        entries = collected
    return [
        PartnerAnswer(
            str(entry.get("partner_name") or entry.get("partner") or ""),
            str(entry.get("answer") or ""),
            str(entry.get("comment") or ""),
        )
        for entry in entries
        if isinstance(entry, Mapping)
    ]
