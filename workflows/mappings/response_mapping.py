"""The annual response mapping (`bpmn/response_mapping.bpmn`): its service tasks, which read
the mapped needs, record the responses against them and put the approved reports into the
IISG Database, and a demo instance in the development phase."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.choices import ChoiceScope, register_choices
from engine.errors import EngineError, Refused
from engine.instances.steps import complete_task, start_instance
from engine.services import ServiceCall, register
from models import HumanTask, Need, Organisation, ProcessInstance, Report, Response, User
from workflows.mappings.support_group import contribution_requests
from workflows.people.accounts import find_user, participant
from workflows.people.roles import PILLARS, WB_PARTNERS, partner_name

REPORT_KIND = "response_mapping"
PERIODS = ("past_year", "planned")
RESPONSE_STATUSES = ("completed", "ongoing", "planned")


def _open_needs(session: Session, **where: str) -> list[Need]:
    query = select(Need).where(Need.status == "open").order_by(Need.id)
    for column, value in where.items():
        query = query.where(getattr(Need, column) == value)
    return list(session.scalars(query))


def _need_item(need: Need) -> dict[str, Any]:
    return {
        "id": need.id,
        "partner": need.partner,
        "sub_pillar": need.sub_pillar,
        "kind": need.kind,
        "perspective": need.perspective,
        "description": need.description,
    }


@register("latest_mapped_needs")
def latest_mapped_needs(call: ServiceCall) -> dict[str, dict[str, int]]:
    """How many open mapped needs each WB partner has, per pillar."""
    counts = {p.code: dict.fromkeys(PILLARS, 0) for p in WB_PARTNERS}
    for need in _open_needs(call.context.session):
        if need.partner in counts and need.pillar in PILLARS:
            counts[need.partner][need.pillar] += 1
    return counts


@register("response_mapping_information_requests")
def information_requests(call: ServiceCall) -> dict[str, dict[str, Any]]:
    """One request per WB partner and pillar with open mapped needs, keyed "AL-WBCTi".

    A partner is never asked about a pillar in which it mapped no need. The needs themselves
    are listed inside each request (`partner_mapped_needs`), so every partner's task carries
    its own needs and the instance does not copy everyone's into every task.
    """
    counts = latest_mapped_needs(call)
    return {
        f"{partner.code}-{pillar}": {
            "partner": partner.code,
            "partner_name": partner.display_name,
            "pillar": pillar,
            "open_needs": counts[partner.code][pillar],
        }
        for partner in WB_PARTNERS
        for pillar in PILLARS
        if counts[partner.code][pillar]
    }


@register("wb_partner_agreement_requests")
def agreement_requests(call: ServiceCall) -> dict[str, dict[str, str]]:
    """One request per WB partner, keyed by its code: each agrees the draft calendar and the
    proposed structure of the report, or comments on them."""
    return {p.code: {"partner": p.code, "partner_name": p.display_name} for p in WB_PARTNERS}


@register("partner_mapped_needs")
def partner_mapped_needs(call: ServiceCall) -> list[dict[str, Any]]:
    """A WB partner's own open mapped needs in one pillar, and nobody else's."""
    partner, pillar = str(call.params["partner"]), str(call.params["pillar"])
    return [
        _need_item(n) for n in _open_needs(call.context.session, partner=partner, pillar=pillar)
    ]


@register("response_mapping_support_requests")
def support_requests(call: ServiceCall) -> dict[str, dict[str, Any]]:
    """One request per pillar in which the WB partners have open mapped needs and member
    organisation with a focal point in that pillar's Support Group, keyed "EC-WBCTi"."""
    counts = latest_mapped_needs(call)
    return contribution_requests(
        call.context.session, [p for p in PILLARS if any(c[p] for c in counts.values())]
    )


@register("pillar_mapped_needs")
def pillar_mapped_needs(call: ServiceCall) -> list[dict[str, Any]]:
    """The WB partners' open mapped needs in one pillar."""
    pillar = str(call.params["pillar"])
    needs = _open_needs(call.context.session, pillar=pillar)
    return [_need_item(n) for n in needs if _is_wb_partner(n.partner)]


def _is_wb_partner(code: str) -> bool:
    return any(p.code == code for p in WB_PARTNERS)


# The needs a form's `need_id` may name (choicesFrom), read as the record steps below check
# them, so the form offers exactly what they accept.
NEED_LABEL_CHARS = 120


def _need_label(need: Need, *, with_partner: bool = False) -> str:
    text = " ".join(need.description.split())
    if len(text) > NEED_LABEL_CHARS:
        text = text[: NEED_LABEL_CHARS - 1].rstrip() + "…"
    partner = f" ({partner_name(need.partner)})" if with_partner else ""
    return f"Need {need.id}{partner}: {text}"


@register_choices(
    "open_needs",
    nothing="You have no open mapped needs in this pillar, so there is no need to choose: "
    "leave the responses empty.",
)
def open_needs_choices(scope: ChoiceScope) -> list[tuple[Any, str]]:
    """The task's partner's own open mapped needs in the task's pillar."""
    if not scope.organisation or not scope.pillar:
        return []
    needs = _open_needs(scope.session, partner=scope.organisation, pillar=scope.pillar)
    return [(n.id, _need_label(n)) for n in needs]


@register_choices(
    "pillar_needs",
    nothing="The WB partners have no open mapped needs in this pillar, so there is no need to "
    "choose: leave the project support empty.",
)
def pillar_needs_choices(scope: ChoiceScope) -> list[tuple[Any, str]]:
    """The WB partners' open mapped needs in the task's pillar."""
    if not scope.pillar:
        return []
    needs = _open_needs(scope.session, pillar=scope.pillar)
    return [(n.id, _need_label(n, with_partner=True)) for n in needs if _is_wb_partner(n.partner)]


@dataclass(frozen=True)
class _Entry:
    """One response (or one project) as a form gave it, checked."""

    need_id: int
    text: str
    period: str
    status: str
    funding: str | None


def _entries(value: Any, list_field: str, text_field: str) -> list[_Entry]:
    """The checked entries of the submitted list `list_field`; each mistake names its field
    (`responses/0/need_id`), so the page shows it beside what the person typed."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise Refused(list_field, f"the {text_field}s must be a list of entries")
    return [_entry(e, f"{list_field}/{index}", text_field) for index, e in enumerate(value)]


def _entry(entry: Mapping[str, Any], where: str, text_field: str) -> _Entry:
    need_id, text = entry.get("need_id"), str(entry.get(text_field) or "").strip()
    period, status = str(entry.get("period") or ""), str(entry.get("status") or "")
    if not isinstance(need_id, int) or isinstance(need_id, bool):
        raise Refused(f"{where}/need_id", f"name the need this {text_field} answers")
    if not text:
        raise Refused(
            f"{where}/{text_field}", f"this {text_field} is empty; describe it or leave it out"
        )
    if period not in PERIODS:
        raise Refused(f"{where}/period", f"'{period}' is not a period; it is past_year or planned")
    if status not in RESPONSE_STATUSES:
        raise Refused(
            f"{where}/status",
            f"'{status}' is not a status; it is one of {', '.join(RESPONSE_STATUSES)}",
        )
    funding = str(entry.get("funding") or "").strip() or None
    return _Entry(need_id, text, period, status, funding)


def _record(
    call: ServiceCall, entries: Iterable[_Entry], provider: str, provider_kind: str
) -> list[int]:
    """The responses as this mapping's draft, with the mapping's year: the members read them
    once the Board approves the reports (`upload_response_mapping_reports`)."""
    session, now = call.context.session, call.context.now
    year = call.params.get("year")
    rows = [
        Response(
            need_id=e.need_id,
            provider=provider,
            provider_kind=provider_kind,
            year=int(year) if year else None,
            description=e.text,
            period=e.period,
            status=e.status,
            funding=e.funding,
            source_instance_id=call.context.instance_id,
            state="draft",
            created_at=now,
            updated_at=now,
        )
        for e in entries
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


@register("record_partner_responses")
def record_partner_responses(call: ServiceCall) -> dict[str, Any]:
    """Record a WB partner's responses against its own open needs in one pillar.

    A need of another partner or another pillar is refused: each partner speaks only of its
    own mapped needs.
    """
    partner, pillar = str(call.params["partner"]), str(call.params["pillar"])
    own = {n.id for n in _open_needs(call.context.session, partner=partner, pillar=pillar)}
    checked = _entries(call.params.get("responses"), "responses", "response")
    for index, entry in enumerate(checked):
        if entry.need_id not in own:
            raise Refused(
                f"responses/{index}/need_id",
                f"need {entry.need_id} is not one of {partner}'s open mapped needs in {pillar}; "
                "give responses only to the needs listed with your task",
            )
    return {
        "partner": partner,
        "pillar": pillar,
        "state_of_play": str(call.params.get("state_of_play") or ""),
        "response_ids": _record(call, checked, provider=partner, provider_kind="partner"),
        "delivered_by": call.context.actor,
        "delivered_at": call.context.now.isoformat(),
    }


def _organisation_of(session: Session, username: str) -> str | None:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        return None
    held = sorted(
        (g for g in user.grants if g.organisation), key=lambda g: (g.role != "member", g.id)
    )
    return held[0].organisation if held else None


@register("record_project_support")
def record_project_support(call: ServiceCall) -> dict[str, Any]:
    """Record the project support a Support Group member's organisation gave, per need."""
    session, pillar = call.context.session, str(call.params["pillar"])
    provider = (
        str(call.params.get("provider") or "").strip()
        or str(call.params.get("organisation") or "").strip()
        or _organisation_of(session, call.context.actor)
    )
    if not provider:
        raise Refused(
            "provider",
            "say which IISG member gave the support: your account belongs to no organisation",
        )
    if session.get(Organisation, provider) is None:
        raise Refused("provider", f"'{provider}' is not an IISG member's code in the register")
    needs = {n.id: n for n in _open_needs(session, pillar=pillar)}
    checked = _entries(call.params.get("support"), "support", "project")
    for index, entry in enumerate(checked):
        if entry.need_id not in needs or not _is_wb_partner(needs[entry.need_id].partner):
            raise Refused(
                f"support/{index}/need_id",
                f"need {entry.need_id} is not an open mapped need of a WB partner in {pillar}; "
                "give support only against the needs listed with your task",
            )
    return {
        "pillar": pillar,
        "provider": provider,
        "response_ids": _record(call, checked, provider=provider, provider_kind="project_support"),
    }


def approve_mapping_responses(session: Session, instance_id: int, year: int, now: datetime) -> int:
    """The mapping's draft responses enter the members-only database, with the mapping's year
    (a response recorded without one takes it); how many entered."""
    drafts = session.scalars(
        select(Response).where(
            Response.source_instance_id == instance_id, Response.state == "draft"
        )
    ).all()
    for response in drafts:
        response.state, response.updated_at = "approved", now
        if response.year is None:
            response.year = year
    session.flush()
    return len(drafts)


@register("upload_response_mapping_reports")
def upload_response_mapping_reports(call: ServiceCall) -> dict[str, Any]:
    """Put the approved reports, one per pillar, into the IISG Database (members only), and
    with them the responses the mapping collected, held as its draft until now."""
    session, context = call.context.session, call.context
    reports = call.params.get("reports") or {}
    if not isinstance(reports, Mapping) or not reports:
        raise EngineError("there are no final reports to upload")
    year, decision_id = int(call.params["year"]), int(call.params["decision_id"])
    report_ids: dict[str, int] = {}
    for pillar, content in reports.items():
        if pillar not in PILLARS:
            raise EngineError(f"'{pillar}' is not an IISG pillar")
        row = Report(
            kind=REPORT_KIND,
            pillar=pillar,
            year=year,
            summary=str(content.get("summary") or ""),
            body=str(content.get("report") or ""),
            status="approved",
            decision_id=decision_id,
            instance_id=context.instance_id,
            approved_at=context.now,
        )
        session.add(row)
        session.flush()
        report_ids[pillar] = row.id
    responses = approve_mapping_responses(session, context.instance_id, year, context.now)
    return {
        "report_ids": report_ids,
        "year": year,
        "decision_id": decision_id,
        "responses_approved": responses,
    }


@register("publish_response_mapping_summaries")
def publish_response_mapping_summaries(call: ServiceCall) -> dict[str, Any]:
    """Publish the approved summaries for the wider public."""
    session, now = call.context.session, call.context.now
    ids = call.params.get("report_ids") or {}
    published: dict[str, str] = {}
    for pillar, report_id in dict(ids).items():
        report = session.get(Report, int(report_id))
        if report is None or report.status not in ("approved", "published"):
            raise EngineError(
                f"report {report_id} is not an approved report; it cannot be published"
            )
        report.status, report.published_at = "published", now
        published[pillar] = now.isoformat()
    return {"published_at": published}


def response_mapping_reports(session: Session, year: int | None = None) -> list[Report]:
    """The response mapping reports in the IISG Database, newest year first."""
    query = select(Report).where(Report.kind == REPORT_KIND)
    if year is not None:
        query = query.where(Report.year == year)
    return list(session.scalars(query.order_by(Report.year.desc(), Report.pillar)))


# --- demo -------------------------------------------------------------------------------

DEMO_RESPONSE_MAPPING_KEY = "demo-response-mapping-2026"
DEMO_NEEDS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "AL",
        "WBCTi",
        "legal_framework",
        "legislative",
        "prevention",
        "Align the law on preventing violent extremism with the EU acquis.",
    ),
    (
        "AL",
        "WBBSi",
        "capacity_building",
        "operational",
        "response",
        "Train border police in detecting forged travel documents.",
    ),
    (
        "RS",
        "WBCSCi",
        "institutional_setup",
        "institutional",
        "response",
        "Set up a national asset recovery office.",
    ),
    (
        "ME",
        "WBCTi",
        "coordination_cooperation",
        "institutional",
        "prevention",
        "A national coordinator for preventing and countering violent extremism.",
    ),
    (
        "MK",
        "WBBSi",
        "capacity_building",
        "operational",
        "prevention",
        "Equipment for the surveillance of the green border.",
    ),
)


def _ensure_demo_needs(session: Session, now: datetime) -> None:
    if session.scalars(select(Need.id).limit(1)).first() is not None:
        return
    for partner, pillar, sub_pillar, kind, perspective, description in DEMO_NEEDS:
        if session.get(Organisation, partner) is None:
            continue
        session.add(
            Need(
                partner=partner,
                pillar=pillar,
                sub_pillar=sub_pillar,
                kind=kind,
                perspective=perspective,
                description=description,
                source_year=now.year - 1,
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()


def _open_task(session: Session, instance_id: int, bpmn_id: str, **scope: str) -> HumanTask | None:
    query = select(HumanTask).where(
        HumanTask.instance_id == instance_id,
        HumanTask.bpmn_id == bpmn_id,
        HumanTask.status == "open",
    )
    for column, value in scope.items():
        query = query.where(getattr(HumanTask, column) == value)
    return session.scalars(query.order_by(HumanTask.id)).first()


def _demo_complete(
    session: Session,
    instance_id: int,
    bpmn_id: str,
    username: str,
    data: dict[str, Any],
    now: datetime,
    **scope: str,
) -> bool:
    user = find_user(session, username)
    task = _open_task(session, instance_id, bpmn_id, **scope)
    if user is None or task is None:
        return False
    complete_task(session, task.id, data, participant=participant(user), now=now)
    return True


# The Secretariat's step after which the WB partners agree what it proposed, and their step.
DEMO_AGREEMENTS = {
    "prepare_draft_calendar": "agree_calendar",
    "propose_report_structure": "agree_structure",
}


def start_demo_response_mapping(session: Session, *, now: datetime) -> ProcessInstance | None:
    """A response mapping in its development phase, some partners' information delivered.

    Idempotent by business key; None when it exists already or the demo logins are missing.
    """
    exists = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == DEMO_RESPONSE_MAPPING_KEY)
    ).first()
    if exists is not None or find_user(session, "secretariat") is None:
        return None
    _ensure_demo_needs(session, now)
    row = start_instance(
        session,
        "response_mapping",
        {"report_year": now.year},
        actor="secretariat",
        now=now,
        title=f"Annual response mapping {now.year}",
        business_key=DEMO_RESPONSE_MAPPING_KEY,
    )
    secretariat_steps: list[tuple[str, dict[str, Any]]] = [
        (
            "prepare_draft_calendar",
            {"calendar": "Request to partners in week 1; input in 4 weeks; Board in week 10."},
        ),
        ("agree_calendar_with_wb_partners", {"calendar_agreement": "agreed"}),
        ("analyse_latest_needs", {"needs_analysis": "Needs as per the 2025 Needs Mapping."}),
        ("review_database_developments", {"database_review": "Two new projects recorded."}),
        (
            "propose_report_structure",
            {
                "legal_framework": "Laws adopted and their implementation.",
                "institutional_setup": "Bodies set up and enforcement.",
                "capacity_building": "Training, equipment and project support.",
                "coordination_cooperation": "National and regional coordination.",
            },
        ),
        (
            "convoke_meeting_of_wb_partners",
            {"meeting_of_wb_partners": now.date().isoformat(), "structure_agreement": "agreed"},
        ),
        (
            "request_state_of_play",
            {"request_to_partners": "Please send the state of play of your mapped needs."},
        ),
    ]
    for bpmn_id, data in secretariat_steps:
        _demo_complete(session, row.id, bpmn_id, "secretariat", data, now)
        if bpmn_id in DEMO_AGREEMENTS:  # each WB partner's focal point agrees it
            for partner in WB_PARTNERS:
                _demo_complete(
                    session,
                    row.id,
                    DEMO_AGREEMENTS[bpmn_id],
                    f"fp-{partner.code.lower()}-wbcti",
                    {"agreement_answer": "agree"},
                    now,
                    organisation=partner.code,
                )
    for need in _open_needs(session, partner="AL"):
        _demo_complete(
            session,
            row.id,
            "deliver_information",
            f"fp-al-{need.pillar.lower()}",
            {
                "state_of_play": "Work is under way.",
                "responses": [
                    {
                        "need_id": need.id,
                        "response": "Working group set up; first draft in consultation.",
                        "period": "past_year",
                        "status": "ongoing",
                    }
                ],
            },
            now,
            organisation="AL",
            pillar=need.pillar,
        )
    return row
