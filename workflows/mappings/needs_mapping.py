"""The biennial needs mapping (PROCEDURES.md, section 4): the service tasks of `needs_mapping`,
publishing the approved needs reports and transposing the needs into the IISG database."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError
from engine.instances.steps import complete_task, start_instance
from engine.sandbox.dates import parse_moment
from engine.services import ServiceCall, register
from models import HumanTask, Need, Organisation, ProcessInstance, Report
from models.mapping import NEED_KINDS, PERSPECTIVES, SUB_PILLARS
from workflows.people.accounts import find_user, participant
from workflows.people.roles import PILLARS, WB_PARTNERS

PROCESS = "needs_mapping"
REPORT_KIND = "needs_mapping"
# The BPMN id of the focal points' task (a contract with the diagram).
NEEDS_TASK = "identify_needs"
DEMO_NEEDS_MAPPING_KEY = "demo-needs-mapping-2026"


def partner_pillar_key(partner: str, pillar: str) -> str:
    """The key of one partner's input in one pillar, e.g. 'AL-WBCTi'."""
    return f"{partner}-{pillar}"


@register("needs_mapping_partner_pillars")
def partner_pillars(call: ServiceCall) -> dict[str, dict[str, str]]:
    """Every WB partner in every pillar: one input each."""
    return {
        partner_pillar_key(partner.code, pillar): {
            "partner": partner.code,
            "partner_name": partner.display_name,
            "pillar": pillar,
        }
        for partner in WB_PARTNERS
        for pillar in PILLARS
    }


@register("needs_mapping_deadline")
def input_deadline(call: ServiceCall) -> str:
    """The input deadline in UTC; refuses one without an offset or not after the opening."""
    value = str(call.params.get("deadline") or "")
    deadline = parse_moment(value, "input deadline")
    if deadline <= call.context.now:
        raise EngineError(
            f"the input deadline '{value}' has passed already; give a later date and time"
        )
    return deadline.astimezone(UTC).isoformat()


@register("publish_needs_reports")
def publish_needs_reports(call: ServiceCall) -> list[dict[str, Any]]:
    """Publish the approved needs report of each pillar, its body and its summary, with the
    decision: "The IISG publishes biennially a needs report on its webpage" (`/public`)."""
    params, context = call.params, call.context
    year, decision_id = int(params["year"]), int(params["decision_id"])
    reports: Mapping[str, Any] = params.get("reports") or {}
    existing = {
        report.pillar: report
        for report in context.session.scalars(
            select(Report).where(
                Report.instance_id == context.instance_id, Report.kind == REPORT_KIND
            )
        )
    }
    published = []
    for pillar in PILLARS:
        given = reports.get(pillar) or {}
        summary = str(given.get("summary") or "").strip()
        if not summary:
            raise EngineError(f"the needs report of {pillar} has no summary; compile one first")
        report = existing.get(pillar) or Report(
            kind=REPORT_KIND, pillar=pillar, year=year, instance_id=context.instance_id
        )
        report.summary = summary
        report.body = str(given.get("body") or "")
        report.status = "published"
        report.decision_id = decision_id
        report.approved_at = context.now
        report.published_at = context.now
        context.session.add(report)
        context.session.flush()
        published.append({"id": report.id, "pillar": pillar})
    return published


def _needs_given(
    partner_inputs: Mapping[str, Any], support_group_inputs: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    for given in partner_inputs.values():
        for need in given.get("needs") or []:
            yield {**need, "partner": given["partner"], "pillar": given["pillar"]}
    for given in support_group_inputs.values():
        for need in given.get("additional_needs") or []:
            yield {**need, "pillar": given["pillar"]}


def _checked(need: Mapping[str, Any]) -> dict[str, Any]:
    partner, pillar = str(need.get("partner")), str(need.get("pillar"))
    kind, perspective = str(need.get("kind")), str(need.get("perspective"))
    sub_pillar = str(need.get("sub_pillar") or "")
    if pillar not in PILLARS:
        raise EngineError(f"'{pillar}' is not a pillar; pillars are: {', '.join(PILLARS)}")
    if kind not in NEED_KINDS:
        raise EngineError(f"'{kind}' is not a kind of need: {', '.join(NEED_KINDS)}")
    if perspective not in PERSPECTIVES:
        raise EngineError(f"'{perspective}' is not a perspective: {', '.join(PERSPECTIVES)}")
    # The reports are built "along the four sub-pillars" (response mapping methodology, I.2).
    if sub_pillar not in SUB_PILLARS:
        raise EngineError(
            f"a need of {partner} in {pillar} names no sub-pillar ('{sub_pillar}'); "
            f"give one of: {', '.join(SUB_PILLARS)}"
        )
    description = str(need.get("description") or "").strip()
    if not description:
        raise EngineError(f"a need of {partner} in {pillar} has no description")
    return {
        "partner": partner,
        "pillar": pillar,
        "kind": kind,
        "perspective": perspective,
        "sub_pillar": sub_pillar,
        "description": description,
    }


@register("transpose_needs")
def transpose_needs(call: ServiceCall) -> dict[str, Any]:
    """Transpose the approved needs into the IISG database, as open needs members update."""
    params, context = call.params, call.context
    session = context.session
    already = session.scalars(
        select(Need.id).where(Need.source_instance_id == context.instance_id)
    ).all()
    if already:  # transposed before: never twice
        return {"count": len(already), "ids": list(already)}
    needs = [
        _checked(need)
        for need in _needs_given(
            params.get("partner_inputs") or {}, params.get("support_group_inputs") or {}
        )
    ]
    missing = sorted(
        {n["partner"] for n in needs} - set(session.scalars(select(Organisation.code)))
    )
    if missing:
        raise EngineError(
            f"the IISG database has no organisation {', '.join(missing)}; add the WB partners "
            "to the list of organisations, then complete this step again"
        )
    rows = [
        Need(
            **need,
            source_year=int(params["year"]),
            source_instance_id=context.instance_id,
            status="open",
            created_at=context.now,
            updated_at=context.now,
        )
        for need in needs
    ]
    session.add_all(rows)
    session.flush()
    return {"count": len(rows), "ids": [row.id for row in rows]}


# What the demo's partners deliver: (partner, pillar) -> their needs.
_DEMO_INPUTS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("AL", "WBCTi"): [
        {
            "kind": "legislative",
            "perspective": "prevention",
            "sub_pillar": "legal_framework",
            "description": "Align the law on the prevention of violent extremism with the EU "
            "acquis on terrorist content online.",
        },
        {
            "kind": "operational",
            "perspective": "response",
            "sub_pillar": "capacity_building",
            "description": "Training of first responders for the reintegration of returning "
            "foreign terrorist fighters.",
        },
    ],
    ("RS", "WBBSi"): [
        {
            "kind": "institutional",
            "perspective": "prevention",
            "sub_pillar": "coordination_cooperation",
            "description": "A national coordination centre for integrated border management.",
        }
    ],
    ("ME", "WBCSCi"): [
        {
            "kind": "operational",
            "perspective": "response",
            "sub_pillar": "capacity_building",
            "description": "Financial investigation capacity for asset recovery in organised "
            "crime cases.",
        }
    ],
}


def start_demo_needs_mapping(session: Session, *, now: datetime) -> ProcessInstance | None:
    """A needs mapping under way, where some partners have delivered (started once)."""
    found = session.scalars(
        select(ProcessInstance).where(ProcessInstance.business_key == DEMO_NEEDS_MAPPING_KEY)
    ).first()
    if found is not None:
        return None
    instance = start_instance(
        session,
        PROCESS,
        {"mapping_year": now.year, "input_deadline": None, "calendar_notes": None},
        actor="secretariat",
        now=now,
        title=f"Needs mapping {now.year}",
        business_key=DEMO_NEEDS_MAPPING_KEY,
    )
    for (partner, pillar), needs in _DEMO_INPUTS.items():
        user = find_user(session, f"fp-{partner.lower()}-{pillar.lower()}")
        task = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id,
                HumanTask.bpmn_id == NEEDS_TASK,
                HumanTask.organisation == partner,
                HumanTask.pillar == pillar,
                HumanTask.status == "open",
            )
        ).first()
        if user is not None and task is not None:
            complete_task(
                session,
                task.id,
                {"needs": needs, "remarks": None},
                participant=participant(user),
                now=now,
            )
    return instance
