"""A plausible two-year history for the IISG database, so that its analysis pages show
something real at first start: the 2024 and 2026 needs mappings of the six WB partners in the
three pillars, responses in 2025 and 2026 by the partners and by a few Support Group members'
organisations (with gaps and some duplications among them), and the approved reports with
their summaries. Deterministic, idempotent, and a few bulk inserts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import Need, Organisation, Report, Response
from models.mapping import NEED_KINDS, PERSPECTIVES, SUB_PILLARS
from workflows.people.roles import PILLARS, WB_PARTNERS

# What the needs are about, per pillar and sub-pillar; the partner's name completes them.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "WBCTi": {
        "legal_framework": (
            "Align the law on terrorist offences with Directive (EU) 2017/541",
            "Rules on the removal of terrorist content online",
        ),
        "institutional_setup": (
            "A national coordinator for preventing and countering violent extremism",
            "Multi-agency referral mechanisms for persons at risk of radicalisation",
        ),
        "capacity_building": (
            "Training of prison staff in detecting radicalisation",
            "Reintegration programmes for returning foreign terrorist fighters and families",
        ),
        "coordination_cooperation": (
            "Exchange of information with Europol's counter-terrorism centre",
            "Local prevention networks with municipalities and civil society",
        ),
    },
    "WBCSCi": {
        "legal_framework": (
            "A law on the extended confiscation of criminal assets",
            "Rules on special investigative measures in line with the acquis",
        ),
        "institutional_setup": (
            "A national asset recovery office",
            "A specialised prosecution office for organised crime",
        ),
        "capacity_building": (
            "Financial investigation skills for police and prosecutors",
            "Tools for the analysis of cryptocurrency transactions",
        ),
        "coordination_cooperation": (
            "Joint investigation teams with EU Member States",
            "Firearms focal points linked to the EU network",
        ),
    },
    "WBBSi": {
        "legal_framework": (
            "A law on integrated border management aligned with the EU concept",
            "Rules on the processing of advance passenger information",
        ),
        "institutional_setup": (
            "A national coordination centre for border surveillance",
            "A risk analysis unit in the border police",
        ),
        "capacity_building": (
            "Equipment for the surveillance of the green border",
            "Training in detecting forged travel documents",
        ),
        "coordination_cooperation": (
            "Joint patrols and common contact points with neighbours",
            "Cooperation with Frontex under a status agreement",
        ),
    },
}
# Organisations whose Support Group members report project support, beside the Commission.
SUPPORTERS = (
    # EU Member States are international partners operating in the region (`002_*`, 1).
    ("DE", "Germany", "international_partner"),
    ("AT", "Austria", "international_partner"),
    ("OSCE", "Organization for Security and Co-operation in Europe", "international_partner"),
)
FUNDING = ("IPA III", "Bilateral grant", "OSCE unified budget", None)
MAPPING_YEARS = (2024, 2026)
RESPONSE_YEARS = (2025, 2026)
SUMMARIES = {
    ("needs_mapping", 2024): "The partners mapped {n} needs in {pillar}; most concern capacity "
    "building and the institutional set-up, fewer the legal framework.",
    ("response_mapping", 2025): "{n} responses were recorded in {pillar}: the partners' own "
    "work and project support by IISG members; several needs remain without a response.",
    ("needs_mapping", 2026): "The 2026 mapping added {n} needs in {pillar}; some of the 2024 "
    "needs were addressed and are no longer open.",
}


def _ensure_supporters(session: Session) -> None:
    for code, name, group in SUPPORTERS:
        if session.get(Organisation, code) is None:
            session.add(Organisation(code=code, name=name, member_group=group, is_member=True))
    session.flush()


def _need_rows(now: datetime) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for p_index, partner in enumerate(WB_PARTNERS):
        for q_index, pillar in enumerate(PILLARS):
            for y_index, year in enumerate(MAPPING_YEARS):
                # Three needs per partner and pillar in 2024, two new ones in 2026.
                for n in range(3 - y_index):
                    seed = p_index * 7 + q_index * 5 + y_index * 3 + n
                    sub_pillar = SUB_PILLARS[(seed + n) % len(SUB_PILLARS)]
                    topic = TOPICS[pillar][sub_pillar][(p_index + y_index) % 2]
                    status = "open"
                    if year == 2024 and seed % 5 == 0:
                        status = "addressed"
                    elif year == 2024 and seed % 7 == 0:
                        status = "partly_addressed"
                    elif year == 2024 and seed % 11 == 0:
                        status = "no_longer_relevant"
                    stamp = datetime(year, 4, 15, 9, 0, tzinfo=UTC)
                    rows.append(
                        {
                            "partner": partner.code,
                            "pillar": pillar,
                            "sub_pillar": sub_pillar,
                            "kind": NEED_KINDS[seed % 3],
                            "perspective": PERSPECTIVES[seed % 2],
                            "description": f"{topic} ({partner.display_name}).",
                            "source_kind": "needs_mapping",
                            "source_year": year,
                            "status": status,
                            "created_at": stamp,
                            "updated_at": now if status != "open" else stamp,
                        }
                    )
    return rows


def _response_rows(needs: list[Need], now: datetime) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for index, need in enumerate(needs):
        years = [y for y in RESPONSE_YEARS if y >= need.source_year]
        if not years or index % 4 == 3:  # every fourth need stays a gap
            continue
        for year in years:
            period = "past_year" if year == 2025 else "planned"
            status = "completed" if need.status == "addressed" else "ongoing"
            if period == "planned":
                status = "planned"
            stamp = datetime(year, 10, 1, 9, 0, tzinfo=UTC)
            base = {"need_id": need.id, "period": period, "year": year, "created_at": stamp}
            if index % 3 != 2:
                rows.append(
                    {
                        **base,
                        "provider": need.partner,
                        "provider_kind": "partner",
                        "description": "National action under way: working group, draft and "
                        "consultations with the stakeholders.",
                        "status": status,
                        "funding": "State budget",
                        "updated_at": stamp,
                    }
                )
            supporters = ["EC", *(code for code, _, _ in SUPPORTERS)]
            # Project support for every second need; two members on every seventh (duplication).
            count = 2 if index % 7 == 0 else (1 if index % 2 == 0 else 0)
            for k in range(count):
                provider = supporters[(index + k) % len(supporters)]
                rows.append(
                    {
                        **base,
                        "provider": provider,
                        "provider_kind": "project_support",
                        "description": f"Project support by {provider}: expertise, training "
                        "and equipment.",
                        "status": status,
                        "funding": FUNDING[(index + k) % len(FUNDING)],
                        "updated_at": stamp,
                    }
                )
    return rows


def _report_rows(counts: dict[tuple[str, int, str], int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for (kind, year), template in SUMMARIES.items():
        approved = datetime(year, 11, 20, 12, 0, tzinfo=UTC)
        for pillar in PILLARS:
            rows.append(
                {
                    "kind": kind,
                    "pillar": pillar,
                    "year": year,
                    "summary": template.format(
                        n=counts.get((kind, year, pillar), 0), pillar=pillar
                    ),
                    "body": "",
                    "status": "published",
                    "approved_at": approved,
                    "published_at": approved,
                }
            )
    return rows


def load_database_history(session: Session, *, now: datetime) -> bool:
    """Fill the IISG database with the demo history, once; False when it is there already."""
    marker = session.scalars(
        select(Report.id).where(Report.kind == "needs_mapping", Report.year == MAPPING_YEARS[0])
    ).first()
    if marker is not None or session.get(Organisation, WB_PARTNERS[0].code) is None:
        return False
    _ensure_supporters(session)
    session.execute(insert(Need), _need_rows(now))
    needs = list(
        session.scalars(
            select(Need)
            .where(Need.source_instance_id.is_(None), Need.source_year.in_(MAPPING_YEARS))
            .order_by(Need.id)
        )
    )
    responses = _response_rows(needs, now)
    if responses:
        session.execute(insert(Response), responses)
    counts: dict[tuple[str, int, str], int] = {}
    for need in needs:
        key = ("needs_mapping", need.source_year, need.pillar)
        counts[key] = counts.get(key, 0) + 1
    pillar_of = {n.id: n.pillar for n in needs}
    for row in responses:
        if row["year"] == 2025:
            key = ("response_mapping", 2025, pillar_of[int(str(row["need_id"]))])
            counts[key] = counts.get(key, 0) + 1
    session.execute(insert(Report), _report_rows(counts))
    session.flush()
    return True
