"""An applicant's own membership applications (`bpmn/membership.bpmn`): each one's state, its
next step (what the IISG is doing now, who acts next, by when) and, once the Board has
decided, the outcome, in the applicant's words.

The applicant is the login the application names (`applicant_username`): the expression of
interest, the focal points and the Board's reasons are theirs to see, whoever started it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine.instances.cancellation import cancellation_of
from engine.instances.diagram_state import workflow_state
from engine.instances.loading import load
from engine.instances.task_lookup import current_data, data_waiting_at, start_data
from models import HumanTask, ProcessInstance
from workflows.board.membership import PROCESS, WAITING_ON_LIST

YOU = "You"
SECRETARIAT = "The IISG Secretariat"
BOARD = "The IISG Board"


@dataclass(frozen=True)
class Stage:
    """Where an application stands at one step of the diagram, and what happens next."""

    state: str
    doing: str
    who: str


# By the BPMN id of the step where the application stands (a contract with the diagram);
# the first that is current names the state.
STAGES: dict[str, Stage] = {
    "submit_expression_of_interest": Stage(
        "Waiting for your expression of interest",
        "Fill in and sign the expression of interest.",
        YOU,
    ),
    "nominate_focal_points": Stage(
        "Confirmed: an IISG member",
        "Nominate your focal points, for official correspondence and for the pillars of the "
        "Support Group.",
        YOU,
    ),
    "read_board_decision": Stage(
        "Not confirmed by the IISG Board",
        "Read the Board's decision on your application and its reasons.",
        YOU,
    ),
    "send_invitation": Stage(
        "Opened by the IISG Secretariat",
        "The Secretariat sends you the official invitation to express interest.",
        SECRETARIAT,
    ),
    "assess_application": Stage(
        "Expression of interest received",
        "The Secretariat assesses your application against the criteria for membership: "
        "like-minded partner; commitment to regional cooperation in the WB; support for EU "
        "values, EU policies and the EU perspective for the region.",
        SECRETARIAT,
    ),
    "send_list_to_board": Stage(
        "Assessed, going to the IISG Board",
        "The Secretariat sends the list of potential members, with your application and its "
        "assessment, to the IISG Board.",
        SECRETARIAT,
    ),
    WAITING_ON_LIST: Stage(
        "On a list for the IISG Board",
        "Your application goes to the IISG Board with the other applications on its list; "
        "the Board decides on each of them.",
        BOARD,
    ),
    "board_decides": Stage(
        "Before the IISG Board",
        "The IISG Board decides whether to confirm your membership, at a meeting or by "
        "silent written procedure.",
        BOARD,
    ),
    "decide_after_the_board": Stage(
        "Not confirmed by the IISG Board with the others on its list",
        "The Secretariat decides whether your application ends here or goes to the Board "
        "again on a new list.",
        SECRETARIAT,
    ),
    "request_focal_points": Stage(
        "Confirmed: an IISG member",
        "The Secretariat writes to ask for your focal points.",
        SECRETARIAT,
    ),
}
UNDER_WAY = Stage("Under way", "The Secretariat carries your application forward.", SECRETARIAT)
ENDED = {
    "completed": "Decided",
    "cancelled": "Withdrawn",
    "error": "Stopped by an error: the Secretariat has been told and will put it right",
}


@dataclass(frozen=True)
class NextStep:
    """What happens next: who acts, what they do, by when; `task_id` is the applicant's own
    open task, to open from the page."""

    who: str
    doing: str
    due_at: datetime | None
    task_id: int | None


@dataclass(frozen=True)
class Application:
    """One membership application as its applicant follows it."""

    instance_id: int
    organisation: str
    started_at: datetime
    ended_at: datetime | None
    state: str
    next_step: NextStep | None
    outcome: str | None


def _applications_of(username: str) -> Any:
    """The membership instances in which `username` is the applicant (has or had a step)."""
    return select(HumanTask.instance_id).where(
        HumanTask.process_key == PROCESS, HumanTask.assignee == username
    )


def has_applications(session: Session, username: str) -> bool:
    """Whether the person is the applicant of any membership application; one query."""
    return bool(session.scalar(select(exists(_applications_of(username)))))


def _earliest_due(session: Session, instance_id: int) -> datetime | None:
    """The first deadline among the instance's open steps (an optional one sets none)."""
    dues = session.scalars(
        select(HumanTask.due_at).where(
            HumanTask.instance_id == instance_id,
            HumanTask.status == "open",
            HumanTask.optional.is_(False),
        )
    )
    return min((due for due in dues if due is not None), default=None)


def _outcome(done: set[str], data: dict[str, Any]) -> str | None:
    """The Board's outcome, once there is one (still to be acted on, or the end)."""
    if "notify_the_board" in done:
        return (
            "An IISG member upon notification to the Board (an EU Justice and Home Affairs agency)."
        )
    if "register_the_member" in done:
        return "The IISG Board confirmed your membership: you are an IISG member."
    if "record_the_refusal" in done:
        reasons = str((data.get("board_reasons") or {}).get("reasons") or "").strip()
        return "The IISG Board did not confirm your membership." + (
            f" Its reasons: {reasons}" if reasons else ""
        )
    return None


def _application(session: Session, row: ProcessInstance, username: str) -> Application:
    workflow = load(session, row.id).workflow
    started = start_data(workflow)
    data = current_data(workflow)
    state = workflow_state(workflow)
    done = {s.bpmn_id for s in state.done}
    organisation = str(started.get("organisation_name") or row.title)
    outcome = _outcome(done, data)
    if row.status != "running":
        if row.status == "cancelled":
            withdrawn = cancellation_of(session, row.id)
            if withdrawn is not None:
                outcome = f"Withdrawn by {withdrawn.by}: {withdrawn.reason}"
        return Application(
            row.id, organisation, row.started_at, row.ended_at, ENDED[row.status], None, outcome
        )
    current = {s.bpmn_id for s in state.current}
    key = next((k for k in STAGES if k in current), None)
    stage = STAGES[key] if key else UNDER_WAY
    own = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == row.id,
            HumanTask.status == "open",
            HumanTask.assignee == username,
        )
        .order_by(HumanTask.id)
    ).first()
    due = own.due_at if own is not None else _earliest_due(session, row.id)
    if key == WAITING_ON_LIST:
        # The application that leads the list carries it to the Board: its deadline is this
        # one's too.
        place = (data_waiting_at(workflow, WAITING_ON_LIST) or {}).get("board_list_place") or {}
        if place.get("leader"):
            due = _earliest_due(session, int(place["leader"]))
    return Application(
        row.id,
        organisation,
        row.started_at,
        None,
        stage.state,
        NextStep(stage.who, stage.doing, due, own.id if own is not None else None),
        outcome,
    )


def my_applications(session: Session, username: str) -> list[Application]:
    """The person's membership applications, newest first, each with its state, next step and
    outcome. Reads each application's workflow: an applicant has a handful."""
    rows = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.id.in_(_applications_of(username)))
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    )
    return [_application(session, row, username) for row in rows]
