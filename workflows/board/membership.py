"""Becoming an IISG member (`bpmn/membership.bpmn`): the service tasks that keep the list of
IISG members and their focal points, the Board list several applications share, and a demo.

Several applications on one Board list: the first application assessed on a list leads it.
The Secretariat sends the list to the Board from that application, whose proposal names
every application then waiting on the list with its assessment; the Board takes one decision
on the list, and that decision is passed to every application on it (a signal), so each one
goes on to registration or to telling its applicant, as if it had been decided alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import EngineError, Refused
from engine.instances.assignment import Grant
from engine.instances.loading import load
from engine.instances.steps import complete_task, send_signal, start_instance
from engine.instances.task_lookup import data_waiting_at
from engine.services import ServiceCall, register
from models import Decision, FocalPoint, HumanTask, Organisation, ProcessInstance
from workflows.people.accounts import add_grant, find_user, participant
from workflows.people.organisations import admit_member
from workflows.people.roles import PILLARS

PROCESS = "membership"
# BPMN ids of `membership.bpmn` this module relies on (a contract with the diagram).
ASSESSMENT_TASK = "assess_application"
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

DEMO_MEMBERSHIP_KEY = "demo-membership-osce"


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
    return {"organisation": organisation.code, "notified_at": context.now.isoformat()}


def _list_key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


def _on_list(session: Session, board_list: str, but_not: int) -> list[int]:
    """The other applications assessed for this Board list, oldest first."""
    rows = session.execute(
        select(HumanTask.instance_id, HumanTask.submitted)
        .where(
            HumanTask.process_key == PROCESS,
            HumanTask.bpmn_id == ASSESSMENT_TASK,
            HumanTask.status == "completed",
            HumanTask.instance_id != but_not,
        )
        .order_by(HumanTask.instance_id)
    ).all()
    key = _list_key(board_list)
    return [i for i, submitted in rows if _list_key((submitted or {}).get("board_list")) == key]


def _send_list_tasks(session: Session, instances: list[int]) -> list[HumanTask]:
    if not instances:
        return []
    return list(
        session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id.in_(instances), HumanTask.bpmn_id == SEND_LIST_TASK
            )
        )
    )


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
    kind = PARTNER_TYPES.get(str(data.get("partner_type")), "international partner")
    lines = [
        f"{number}. {data['organisation_name']} ({data['organisation_code']}), {kind}. "
        f"Expression of interest signed by {data['signature']} on {data['signed_on']}.",
        "   Brief assessment of the Secretariat:",
    ]
    for key, words in CRITERIA.items():
        verdict = "meets" if data.get(key) == "meets" else "does not meet"
        lines.append(f"   - {words}: {verdict}. {data.get(f'{key}_comment') or ''}".rstrip())
    return "\n".join(lines)


@register("compose_board_list")
def compose_board_list(call: ServiceCall) -> dict[str, Any]:
    """The list of potential members for the Board: subject, proposal and documents."""
    data, context = call.data, call.context
    place = data.get("board_list_place") or {}
    board_list = place.get("board_list")
    applications: list[tuple[int, Mapping[str, Any]]] = [(context.instance_id, data)]
    if board_list:
        for other in _on_list(context.session, board_list, context.instance_id):
            waiting = _waiting_on_list(context.session, other)
            if waiting is not None:
                applications.append((other, waiting))
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
    if board_list:
        parts.append(
            "The Board's decision on this list applies to every application on it. "
            "An application the Board does not confirm with the others goes on a new list."
        )
    if call.params.get("cover_note"):
        parts.append(str(call.params["cover_note"]))
    documents = [
        f"Expression of interest of {d['organisation_name']}, signed by {d['signature']} "
        f"on {d['signed_on']}"
        for _i, d in applications
    ]
    return {
        "board_list": board_list,
        "subject": subject,
        "proposal": "\n\n".join(parts),
        "documents": documents,
        "members": [i for i, _d in applications[1:]],
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


def _objections(decision: Decision) -> list[dict[str, Any]]:
    return [
        {"seat": a.seat, "reason": a.reason} for a in decision.answers if a.answer == "objection"
    ]


@register("take_board_list_decision")
def take_board_list_decision(call: ServiceCall) -> dict[str, Any]:
    """The Board's decision on the list this application waited on."""
    leader = int(call.params["leader"])
    decision = call.context.session.scalars(
        select(Decision)
        .where(Decision.instance_id == leader, Decision.closed_at.is_not(None))
        .order_by(Decision.id.desc())
    ).first()
    if decision is None or decision.outcome is None:
        raise EngineError("the Board has not decided on this application's list yet")
    return {
        "decision_id": decision.id,
        "outcome": decision.outcome,
        "objections": _objections(decision),
    }


@register("register_member")
def register_member(call: ServiceCall) -> dict[str, Any]:
    """The Board confirmed: the organisation is an IISG member from now on."""
    organisation = _admit(call, "member")
    return {
        "organisation": organisation.code,
        "status": organisation.status,
        "member_since": call.context.now.isoformat(),
    }


@register("record_focal_points")
def record_focal_points(call: ServiceCall) -> list[dict[str, Any]]:
    """The member's focal points: for official correspondence, and per pillar."""
    data = call.data
    code = _organisation(call.context.session, data["organisation_code"]).code
    written = [
        _set_focal_point(call, code, kind, data, prefix)
        for kind, prefix in NOMINATION_PREFIX.items()
    ]
    call.context.session.flush()
    return [w for w in written if w is not None]


def board_reasons(decision: Decision) -> str:
    """The Board's reasons in plain words: each objection, or the meeting's conclusions."""
    objections = _objections(decision)
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
    return {
        "decision_id": decision.id,
        "reasons": board_reasons(decision),
        "objections": _objections(decision),
    }


def start_demo_membership(session: Session, *, now: datetime) -> ProcessInstance | None:
    """An application awaiting the Secretariat's assessment: `applicant` has expressed interest.

    Started once (by its business key); None when it exists already or the demo logins do not.
    """
    exists = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == DEMO_MEMBERSHIP_KEY)
    ).first()
    applicant = find_user(session, "applicant")
    if exists is not None or applicant is None or find_user(session, "secretariat") is None:
        return None
    instance = start_instance(
        session,
        PROCESS,
        {
            "how_it_began": "approach",
            "organisation_name": "Organization for Security and Co-operation in Europe",
            "organisation_code": "OSCE",
            "member_group": "international_partner",
            "partner_type": "international_organisation",
            "applicant_username": applicant.username,
        },
        actor="secretariat",
        now=now,
        title="Membership application: OSCE",
        business_key=DEMO_MEMBERSHIP_KEY,
    )
    task = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == "submit_expression_of_interest",
            HumanTask.status == "open",
        )
    ).one()
    complete_task(
        session,
        task.id,
        {
            "country_or_organisation_name": "Organization for Security and Co-operation in Europe",
            "confirms_interest": True,
            "understands_information_and_database": True,
            "understands_no_sensitive_information": True,
            "focal_point_wbcti_name": "Ana Petrović",
            "focal_point_wbcti_position": "Adviser, Transnational Threats Department",
            "focal_point_wbcti_email": "ana.petrovic@osce.example",
            "focal_point_wbbsi_name": "Jonas Weber",
            "focal_point_wbbsi_position": "Border Security and Management Unit",
            "focal_point_wbbsi_email": "jonas.weber@osce.example",
            "expresses_support": True,
            "signatory_name": "Jonas Weber",
            "signature": "Jonas Weber",
            "signed_on": now.date().isoformat(),
        },
        participant=participant(applicant),
        now=now,
    )
    return instance
