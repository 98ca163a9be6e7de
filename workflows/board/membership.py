"""Becoming an IISG member (`bpmn/membership.bpmn`): the service tasks that keep the list of
IISG members and their focal points, the Board list several applications share, and a demo.

Several applications on one Board list: the first application assessed on a list leads it.
The Secretariat sends the list to the Board from that application, whose proposal names
every application then waiting on the list with its assessment; the Board's decision on the
list confirms, or does not confirm, each application on its own ("IISG Board checks that the
criteria for membership as specified in the ToRs are fulfilled and confirm that the
interested partner is an IISG member"), and is passed to every application on it (a signal).
Each goes on with its own outcome: registration, or the Secretariat's choice between ending
it there and putting it on a new list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import EngineError, Refused
from engine.instances.assignment import Grant
from engine.instances.loading import load
from engine.instances.steps import send_signal
from engine.instances.task_lookup import data_waiting_at, start_data
from engine.services import ServiceCall, register
from models import Decision, FocalPoint, HumanTask, Organisation, ProcessInstance
from workflows.accounts.focal_points import appoint_focal_point
from workflows.board.decisions import final_items, objections_of
from workflows.board.membership_mail import tell_of_the_notification, tell_the_applicant
from workflows.people.accounts import add_grant, find_user
from workflows.people.organisations import admit_member
from workflows.people.roles import PILLARS

PROCESS = "membership"
# BPMN ids of `membership.bpmn` this module relies on (a contract with the diagram).
ASSESSMENT_TASK = "assess_application"
# The Secretariat's choice for an application the Board did not confirm with the others.
AFTER_THE_BOARD_TASK = "decide_after_the_board"
SEND_LIST_TASK = "send_list_to_board"
WAITING_ON_LIST = "board_list_decided"
LIST_DECIDED_SIGNAL = "board_list_decided"

MEMBER_GROUPS = {
    "international_partner": "international partner",
    "eu_jha_agency": "EU Justice and Home Affairs agency",
}
PARTNER_TYPES = {
    "international_organisation": "international organisation",
    "eu_member_state": "EU Member State",
    "other_state": "other state",
    "other_international_actor": "other international actor",
}
CRITERIA = {
    "like_minded_partner": "like-minded partner",
    "regional_cooperation": "commitment to regional cooperation in the WB",
    "eu_values": "support for EU values, EU policies and the EU perspective for the region",
}
# Form field prefixes of the pillars' focal points: in the expression of interest, and in
# the nomination after membership (keyed by FocalPoint.kind).
INTEREST_PREFIX = {pillar: f"focal_point_{pillar.lower()}" for pillar in PILLARS}
NOMINATION_PREFIX = {"official": "official"} | {p: f"nominee_{p.lower()}" for p in PILLARS}


def _organisation(session: Session, code: Any) -> Organisation:
    found = session.get(Organisation, str(code))
    if found is None:
        raise EngineError(f"the organisation '{code}' is not on the register")
    return found


def _set_focal_point(
    call: ServiceCall, organisation: str, kind: str, data: Mapping[str, Any], prefix: str
) -> dict[str, Any] | None:
    """Write the focal point a form named under `prefix`, replacing the one of that kind."""
    name = str(data.get(f"{prefix}_name") or "").strip()
    if not name:
        return None
    session, context = call.context.session, call.context
    row = session.scalars(
        select(FocalPoint).where(FocalPoint.organisation == organisation, FocalPoint.kind == kind)
    ).first()
    if row is None:
        row = FocalPoint(organisation=organisation, kind=kind)
        session.add(row)
    row.name = name
    row.position = data.get(f"{prefix}_position") or None
    row.email = data.get(f"{prefix}_email") or None
    row.nominated_at = context.now
    row.instance_id = context.instance_id
    return {"kind": kind, "name": name, "email": row.email}


def _admit(call: ServiceCall, status: str) -> Organisation:
    """Put the applicant on the list of IISG members, with the focal points it named."""
    data, context = call.data, call.context
    organisation = admit_member(
        context.session,
        _organisation(context.session, data["organisation_code"]).code,
        member_group=str(data["member_group"]),
        status=status,
        actor=context.actor,
        now=context.now,
        instance_id=context.instance_id,
    )
    for pillar, prefix in INTEREST_PREFIX.items():
        _set_focal_point(call, organisation.code, pillar, data, prefix)
    user = find_user(context.session, str(data["applicant_username"]))
    if user is not None:
        # The applicant's login now reads what members read.
        add_grant(user, Grant("member", organisation.code))
    context.session.flush()
    return organisation


@register("open_membership_application")
def open_membership_application(call: ServiceCall) -> dict[str, Any]:
    """Put the potential member on the register as an applicant; check the applicant's login."""
    params, session = call.params, call.context.session
    username = str(params["applicant_username"])
    user = find_user(session, username)
    if user is None or not user.active:
        raise Refused(
            "applicant_username",
            f"there is no active login '{username}' for the applicant; create it first "
            f"(iisg user create {username} --role applicant) and start again",
        )
    if not any(g.role == "applicant" for g in user.grants):
        raise Refused(
            "applicant_username",
            f"'{username}' does not hold the applicant role; give it to them "
            "(iisg user create ... --role applicant) or name the applicant's own login",
        )
    code, name = str(params["organisation_code"]), str(params["organisation_name"]).strip()
    organisation = session.get(Organisation, code)
    if organisation is not None and organisation.is_member:
        raise Refused(
            "organisation_code",
            f"{organisation.name} ({code}) is already an IISG member; give another code",
        )
    if organisation is not None and organisation.status == "applicant":
        raise Refused(
            "organisation_code",
            f"an application of {organisation.name} ({code}) is already open; "
            "carry on with that one",
        )
    if organisation is None:
        organisation = Organisation(code=code)
        session.add(organisation)
    organisation.name = name
    organisation.member_group = str(params["member_group"])
    organisation.is_member = False
    organisation.status = "applicant"
    organisation.member_since = None
    session.flush()
    return {"organisation": code, "status": "applicant", "opened_at": call.context.now.isoformat()}


@register("record_expression_of_interest")
def record_expression_of_interest(call: ServiceCall) -> dict[str, Any]:
    """Check the expression of interest names a focal point in at least one pillar."""
    data = call.data
    pillars = [p for p, prefix in INTEREST_PREFIX.items() if data.get(f"{prefix}_name")]
    if not pillars:
        raise Refused(
            f"{next(iter(INTEREST_PREFIX.values()))}_name",
            "name a focal point in at least one pillar of the Support Group "
            "(WB CTi, WB CSCi or WB BSi)",
        )
    return {
        "country_or_organisation": data["country_or_organisation_name"],
        "signed_by": data["signature"],
        "signed_on": data["signed_on"],
        "pillars": pillars,
    }


@register("notify_board_of_agency")
def notify_board_of_agency(call: ServiceCall) -> dict[str, Any]:
    """An EU JHA agency joins upon notification to the Board: record it; no decision."""
    organisation = _admit(call, "notified")
    context = call.context
    audit.record(
        context.session,
        kind="board.notified",
        actor=context.actor,
        now=context.now,
        instance_id=context.instance_id,
        payload={
            "subject": f"IISG membership of {organisation.name} ({organisation.code}), "
            "an EU Justice and Home Affairs agency, upon notification to the Board",
            "organisation": organisation.code,
        },
    )
    tell_of_the_notification(call, organisation)
    return {"organisation": organisation.code, "notified_at": context.now.isoformat()}


def _list_key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


def _listings(session: Session, but_not: int) -> dict[int, tuple[str, datetime]]:
    """Each other application's current Board list (its key) and when it was put there: the
    list of its assessment, or the new list the Secretariat chose after a Board decision."""
    rows = session.execute(
        select(HumanTask.instance_id, HumanTask.submitted, HumanTask.completed_at)
        .where(
            HumanTask.process_key == PROCESS,
            HumanTask.bpmn_id.in_((ASSESSMENT_TASK, AFTER_THE_BOARD_TASK)),
            HumanTask.status == "completed",
            HumanTask.instance_id != but_not,
        )
        .order_by(HumanTask.completed_at, HumanTask.id)
    ).all()
    found: dict[int, tuple[str, datetime]] = {}
    for instance_id, submitted, completed_at in rows:
        chosen = submitted or {}
        if chosen.get("next_step") == "end":
            found.pop(instance_id, None)
        elif completed_at is not None:
            found[instance_id] = (_list_key(chosen.get("board_list")), completed_at)
    return found


def _on_list(session: Session, board_list: str, but_not: int) -> list[tuple[int, datetime]]:
    """The other applications now on this Board list, oldest first, and since when."""
    key = _list_key(board_list)
    return sorted(
        (i, since) for i, (listed, since) in _listings(session, but_not).items() if listed == key
    )


def _send_list_tasks(session: Session, listed: list[tuple[int, datetime]]) -> list[HumanTask]:
    """The steps sending this list to the Board, of the applications on it since they were
    put on it (an application on a new list may have sent an earlier one)."""
    if not listed:
        return []
    since = dict(listed)
    found = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id.in_(since), HumanTask.bpmn_id == SEND_LIST_TASK
        )
    )
    return [t for t in found if t.created_at >= since[t.instance_id]]


@register("place_on_board_list")
def place_on_board_list(call: ServiceCall) -> dict[str, Any]:
    """Lead a new Board list, or join the open list of that name; a list sent is closed."""
    context = call.context
    own = context.instance_id
    board_list = " ".join(str(call.params.get("board_list") or "").split())
    if not board_list:
        return {"board_list": None, "leads": True, "leader": own}
    sends = _send_list_tasks(context.session, _on_list(context.session, board_list, own))
    open_leaders = [t.instance_id for t in sends if t.status == "open"]
    if open_leaders:
        return {"board_list": board_list, "leads": False, "leader": min(open_leaders)}
    if sends:
        raise Refused(
            "board_list",
            f"the Board list '{board_list}' has already gone to the Board; "
            "put this application on a new list",
        )
    return {"board_list": board_list, "leads": True, "leader": own}


def _waiting_on_list(session: Session, instance_id: int) -> dict[str, Any] | None:
    """The data of an application waiting for its Board list's decision (None if not)."""
    row = session.get(ProcessInstance, instance_id)
    if row is None or row.status != "running":
        return None
    return data_waiting_at(load(session, instance_id).workflow, WAITING_ON_LIST)


def _describe_application(number: int, data: Mapping[str, Any]) -> str:
    kind = partner_type_words(data)
    lines = [
        f"{number}. {data['organisation_name']} ({data['organisation_code']}), {kind}. "
        f"Expression of interest signed by {data['signature']} on {data['signed_on']}.",
        "   Brief assessment of the Secretariat:",
    ]
    for key, words in CRITERIA.items():
        verdict = "meets" if data.get(key) == "meets" else "does not meet"
        lines.append(f"   - {words}: {verdict}. {data.get(f'{key}_comment') or ''}".rstrip())
    return "\n".join(lines)


def applications_on_list(
    session: Session, instance_id: int, data: Mapping[str, Any]
) -> list[tuple[int, Mapping[str, Any]]]:
    """The applications on the Board list an application leads, itself first (its `data`),
    then each other one waiting on the list, with its data (its assessment)."""
    board_list = (data.get("board_list_place") or {}).get("board_list")
    applications: list[tuple[int, Mapping[str, Any]]] = [(instance_id, data)]
    if board_list:
        for other, _since in _on_list(session, board_list, instance_id):
            waiting = _waiting_on_list(session, other)
            if waiting is not None:
                applications.append((other, waiting))
    return applications


def partner_type_words(data: Mapping[str, Any]) -> str:
    """What kind of partner an application is, in words."""
    return PARTNER_TYPES.get(str(data.get("partner_type")), "international partner")


@register("compose_board_list")
def compose_board_list(call: ServiceCall) -> dict[str, Any]:
    """The list of potential members for the Board: subject, proposal and documents."""
    data, context = call.data, call.context
    board_list = (data.get("board_list_place") or {}).get("board_list")
    applications = applications_on_list(context.session, context.instance_id, data)
    names = ", ".join(str(d["organisation_name"]) for _i, d in applications)
    subject = (
        f"IISG membership, list '{board_list}': {names}"
        if board_list
        else f"IISG membership of {names}"
    )[:200]
    parts = [
        "The IISG Secretariat submits the following list of potential members to the IISG Board, "
        "with a brief assessment on the criteria for membership (like-minded partner; commitment "
        "to regional cooperation in the WB; support for EU values, EU policies and the EU "
        "perspective for the region). The Board is asked to check that the criteria are "
        "fulfilled and to confirm that "
        + ("each partner on the list is an IISG member." if board_list else "it is an IISG member.")
    ]
    parts += [_describe_application(n, d) for n, (_i, d) in enumerate(applications, start=1)]
    parts.append(
        "The Board confirms, or does not confirm, each application on its own. In a silent "
        "procedure an objection may name the applications it concerns: silence at the deadline "
        "still confirms the others, and the ones named go to the Board meeting. An application "
        "the Board does not confirm with the others ends there or goes on a new list, as the "
        "Secretariat chooses."
        if board_list
        else "The Board confirms, or does not confirm, the application."
    )
    if call.params.get("cover_note"):
        parts.append(str(call.params["cover_note"]))
    # The expressions of interest are the applicants' form answers, not files: the proposal
    # names each, and the decision's documents are files only.
    parts.append(
        "\n".join(
            f"Expression of interest of {d['organisation_name']}, signed by {d['signature']} "
            f"on {d['signed_on']}."
            for _i, d in applications
        )
    )
    return {
        "board_list": board_list,
        "subject": subject,
        "proposal": "\n\n".join(parts),
        "documents": [],
        "members": [i for i, _d in applications[1:]],
        # Each application, for the Board to confirm on its own.
        "items": [
            {"key": str(d["organisation_code"]), "title": str(d["organisation_name"])}
            for _i, d in applications
        ],
    }


@register("announce_board_list_decision")
def announce_board_list_decision(call: ServiceCall) -> dict[str, Any]:
    """Pass the Board's decision on the list to every other application waiting on it."""
    context = call.context
    told: list[int] = []
    for member in call.params.get("members") or []:
        if _waiting_on_list(context.session, int(member)) is None:
            continue  # withdrawn meanwhile: nothing waits there any more
        send_signal(
            context.session, int(member), LIST_DECIDED_SIGNAL, actor=context.actor, now=context.now
        )
        told.append(int(member))
    return {"told": told}


def _latest_decision(session: Session, leader: int) -> Decision | None:
    """The last record of the Board's decision on the list an application waited on."""
    return session.scalars(
        select(Decision)
        .where(Decision.instance_id == leader, Decision.final_outcome.is_not(None))
        .order_by(Decision.id.desc())
    ).first()


@register("take_board_list_decision")
def take_board_list_decision(call: ServiceCall) -> dict[str, Any]:
    """The Board's decision on the list this application waited on."""
    decision = _latest_decision(call.context.session, int(call.params["leader"]))
    if decision is None or decision.final_outcome is None:
        raise EngineError("the Board has not decided on this application's list yet")
    return {
        "decision_id": decision.id,
        "outcome": decision.final_outcome,
        "objections": objections_of(decision),
        "items": final_items(decision),
    }


@register("take_own_outcome")
def take_own_outcome(call: ServiceCall) -> str:
    """This application's own outcome in the Board's decision on its list: confirmed,
    not_confirmed or withdrawn."""
    result = call.data.get("board_result") or {}
    code = str(call.data["organisation_code"])
    items = result.get("items") or {}
    if code in items:
        return str(items[code])
    # A decision taken without its list's items (a single matter): its outcome is the one.
    return "confirmed" if result.get("outcome") == "adopted" else "not_confirmed"


@register("register_member")
def register_member(call: ServiceCall) -> dict[str, Any]:
    """The Board confirmed: the organisation is an IISG member from now on."""
    organisation = _admit(call, "member")
    tell_the_applicant(call, outcome="confirmed")
    return {
        "organisation": organisation.code,
        "status": organisation.status,
        "member_since": call.context.now.isoformat(),
    }


@register("record_focal_points")
def record_focal_points(call: ServiceCall) -> list[dict[str, Any]]:
    """The member's focal points: for official correspondence, and per pillar."""
    data, context = call.data, call.context
    organisation = _organisation(context.session, data["organisation_code"])
    written = [
        _set_focal_point(call, organisation.code, kind, data, prefix)
        for kind, prefix in NOMINATION_PREFIX.items()
    ]
    context.session.flush()
    # Each pillar's focal point on the register, named now or in the expression of interest
    # ("a pillar you leave empty keeps the focal point named in your expression of interest"),
    # becomes a person with a login and the pillar's roles.
    rows = context.session.scalars(
        select(FocalPoint)
        .where(FocalPoint.organisation == organisation.code, FocalPoint.kind.in_(PILLARS))
        .order_by(FocalPoint.id)
    )
    appointed = {
        row.kind: appoint_focal_point(
            context.session,
            organisation,
            row.kind,
            name=row.name,
            email=row.email,
            field=f"{NOMINATION_PREFIX[row.kind]}_email",
            actor=context.actor,
            now=context.now,
        )
        for row in rows
    }
    return [
        w | {"username": appointed[w["kind"]].username} if w["kind"] in appointed else w
        for w in written
        if w is not None
    ]


def board_reasons(decision: Decision, code: str | None = None) -> str:
    """The Board's reasons in plain words, for one application on a list (`code`): the
    objections concerning it, the meeting's conclusions, or the Secretariat's withdrawal."""
    if decision.final_outcome == "withdrawn" and decision.followed_by_id is None:
        return f"The Secretariat withdrew the matter from the Board: {decision.withdrawal_reason}"
    objections = [
        o
        for o in objections_of(decision)
        if code is None or o.get("concerns") is None or code in o["concerns"]
    ]
    if objections:
        return "\n".join(f"Objection of {o['seat']}: {o['reason']}" for o in objections)
    if decision.minutes:
        return f"Conclusions of the Board meeting: {decision.minutes}"
    return "The Board gave no reasons."


@register("record_not_confirmed")
def record_not_confirmed(call: ServiceCall) -> dict[str, Any]:
    """The Board did not confirm: record it, with the Board's reasons for the applicant."""
    session = call.context.session
    decision = session.get(Decision, int(call.params["decision_id"]))
    if decision is None:
        raise EngineError(f"there is no decision record {call.params['decision_id']}")
    organisation = _organisation(session, call.data["organisation_code"])
    organisation.is_member = False
    organisation.status = "not_confirmed"
    tell_the_applicant(call, outcome="not_confirmed", reasons=board_reasons(decision))
    return {
        "decision_id": decision.id,
        "reasons": board_reasons(decision, organisation.code),
        "objections": objections_of(decision),
    }


@dataclass(frozen=True)
class Application:
    """A membership application: the applicant's login and the organisation applying."""

    applicant: str | None
    organisation: Organisation | None

    @property
    def undecided(self) -> bool:
        """The Board has not yet confirmed it, nor not confirmed it."""
        return self.organisation is not None and self.organisation.status == "applicant"


def application_of(session: Session, instance: ProcessInstance) -> Application | None:
    """The application a membership instance is (None for any other procedure)."""
    if instance.process_key != PROCESS:
        return None
    data = start_data(load(session, instance.id).workflow)
    code = data.get("organisation_code")
    applicant = data.get("applicant_username") or instance.started_by
    return Application(
        str(applicant) if applicant else None,
        session.get(Organisation, str(code)) if code else None,
    )


def withdraw_application(application: Application) -> None:
    """An application withdrawn before the Board decided: the organisation is no longer an
    applicant, so a new application of it may be opened."""
    if application.undecided and application.organisation is not None:
        application.organisation.status = "withdrawn"
