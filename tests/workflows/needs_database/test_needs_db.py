"""The IISG database: needs, responses, gaps, duplications, exports, reports."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document as DocxDocument
from openpyxl import load_workbook
from openpyxl.cell import Cell, MergedCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotAllowed
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, Document, Need, NeedChange, Organisation, Report, Response
from models.mapping import NEED_KINDS, PERSPECTIVES, SUB_PILLARS
from tests.workflows.conftest import Iisg
from tests.workflows.mappings.test_needs_mapping import NeedsMapping
from tests.workflows.mappings.test_response_mapping import open_mapping
from workflows.demo import load_demo
from workflows.inbox.documents import stored_path
from workflows.needs_database import analysis, changes, exports, search
from workflows.needs_database import reports as db_reports
from workflows.needs_database.demo_history import load_database_history
from workflows.needs_database.filters import NeedFilter
from workflows.people.roles import PILLARS, WB_PARTNERS
from workflows.refusals import NoAccess, RequestRefused


@dataclass
class People:
    """Who uses the database in these tests."""

    iisg: Iisg
    fp: dict[tuple[str, str], Participant]
    sg: dict[str, Participant]
    observer: Participant
    applicant: Participant
    other_member: Participant

    @property
    def secretariat(self) -> Participant:
        return self.iisg.secretariat

    def run(self, work: Callable[[Session], Any]) -> Any:
        return self.iisg.db.run(work)


@pytest.fixture
def people(iisg: Iisg, make_person: Callable[..., Participant]) -> People:
    fp = {
        (p.code, pillar): make_person(
            f"fp-{p.code.lower()}-{pillar.lower()}",
            Grant("focal_point", p.code, pillar),
            Grant("member", p.code),
        )
        for p in WB_PARTNERS
        for pillar in PILLARS
    }
    sg = {
        "WBCTi": make_person(
            "sg-wbcti", Grant("support_group", "EC", "WBCTi"), Grant("member", "EC")
        ),
        "WBCSCi": make_person(
            "sg-wbcsci", Grant("support_group", "DE", "WBCSCi"), Grant("member", "DE")
        ),
        "WBBSi": make_person(
            "sg-wbbsi", Grant("support_group", "AT", "WBBSi"), Grant("member", "AT")
        ),
    }
    observer = make_person("observer", Grant("observer"), Grant("member", "EEAS"))
    applicant = make_person("applicant", Grant("applicant"))
    other_member = make_person("member-at", Grant("member", "AT"))
    return People(iisg, fp, sg, observer, applicant, other_member)


def seed(people: People) -> dict[str, int]:
    """Known needs and responses: which are gaps and duplications is written beside them."""
    now = people.iisg.clock.now()

    def work(s: Session) -> dict[str, int]:
        ids: dict[str, int] = {}
        rows = (
            # key, partner, pillar, sub-pillar, status, year
            ("al_law", "AL", "WBCTi", "legal_framework", "open", 2024),  # partner + EC
            ("al_train", "AL", "WBCTi", "capacity_building", "open", 2026),  # gap
            ("rs_centre", "RS", "WBBSi", "institutional_setup", "open", 2024),  # duplication
            ("me_assets", "ME", "WBCSCi", "capacity_building", "open", 2026),  # gap
            ("mk_old", "MK", "WBBSi", None, "no_longer_relevant", 2024),  # not a gap
            ("xk_refer", "XK", "WBCTi", "coordination_cooperation", "open", 2026),  # partner only
        )
        for key, partner, pillar, sub_pillar, status, year in rows:
            need = Need(
                partner=partner,
                pillar=pillar,
                sub_pillar=sub_pillar,
                kind="institutional",
                perspective="prevention",
                description=f"Need {key} of {partner}.",
                source_year=year,
                status=status,
                created_at=now,
                updated_at=now,
            )
            s.add(need)
            s.flush()
            ids[key] = need.id
        support = (
            # need, provider, kind, period, year
            ("al_law", "AL", "partner", "past_year", 2025),
            ("al_law", "EC", "project_support", "past_year", 2025),
            ("rs_centre", "EC", "project_support", "planned", 2026),
            ("rs_centre", "DE", "project_support", "planned", 2026),
            ("rs_centre", "AT", "project_support", "past_year", 2025),  # another year
            ("xk_refer", "XK", "partner", "planned", 2026),
        )
        for key, provider, kind, period, year in support:
            s.add(
                Response(
                    need_id=ids[key],
                    provider=provider,
                    provider_kind=kind,
                    description=f"Response by {provider} to {key}.",
                    period=period,
                    year=year,
                    status="ongoing",
                    funding="IPA III" if kind == "project_support" else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        return ids

    result: dict[str, int] = people.run(work)
    return result


def test_an_approved_needs_mapping_lands_its_needs_and_a_response_mapping_links_responses(
    people: People,
) -> None:
    iisg = people.iisg
    mapping = NeedsMapping(iisg, people.fp, people.sg)
    instance_id = mapping.open(year=2026)
    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    assert people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=people.observer)) == []
    mapping.board_decides(instance_id, "adopted")

    needs: list[Need] = people.run(
        lambda s: search.search_needs(s, NeedFilter(year=2026), viewer=people.observer)
    )
    assert len(needs) == len(WB_PARTNERS) * len(PILLARS) + 2
    assert {(n.source_kind, n.source_instance_id, n.status) for n in needs} == {
        ("needs_mapping", instance_id, "open")
    }
    al_cti = [n.id for n in needs if (n.partner, n.pillar) == ("AL", "WBCTi")]
    assert len(al_cti) == 2

    response_id = open_mapping(iisg)
    for (partner, pillar), fp in people.fp.items():
        given = [
            {
                "need_id": al_cti[0],
                "response": "Draft law in parliament.",
                "period": "past_year",
                "status": "ongoing",
            }
        ]
        iisg.complete(
            fp,
            "deliver_information",
            response_id,
            {
                "state_of_play": "Under way.",
                "responses": given if (partner, pillar) == ("AL", "WBCTi") else [],
            },
        )
    iisg.complete(iisg.secretariat, "prepare_first_draft", response_id, {"first_draft": "Draft."})
    iisg.complete(
        people.sg["WBCTi"],
        "add_project_support",
        response_id,
        {
            "support": [
                {
                    "need_id": al_cti[0],
                    "project": "EU project on the financing of terrorism.",
                    "period": "planned",
                    "status": "planned",
                    "funding": "IPA III",
                }
            ]
        },
    )
    # Linked to the need, as the mapping's draft: the Secretariat reads them, an observer not
    # until the Board approves the reports (test_response_mapping walks that through).
    responses: list[Response] = people.run(
        lambda s: search.search_responses(s, NeedFilter(partner="AL"), viewer=people.secretariat)
    )
    assert [
        (r.need_id, r.provider, r.provider_kind, r.source_instance_id, r.state, r.year)
        for r in responses
    ] == [
        (al_cti[0], "AL", "partner", response_id, "draft", 2026),
        (al_cti[0], "EC", "project_support", response_id, "draft", 2026),
    ]
    detail: search.NeedDetail = people.run(
        lambda s: search.need_detail(s, al_cti[0], people.observer)
    )
    assert detail.responses == []
    assert not detail.may_edit and not detail.may_respond
    gaps: list[Need] = people.run(
        lambda s: analysis.gaps(s, NeedFilter(partner="AL", pillar="WBCTi"), viewer=people.observer)
    )
    assert [n.id for n in gaps] == al_cti


def test_gaps_duplications_coverage_and_trends_count_what_the_data_says(people: People) -> None:
    ids = seed(people)
    viewer = people.observer

    gaps: list[Need] = people.run(lambda s: analysis.gaps(s, NeedFilter(), viewer=viewer))
    assert sorted(n.id for n in gaps) == sorted([ids["al_train"], ids["me_assets"]])
    rows: list[analysis.DuplicationRow] = people.run(
        lambda s: analysis.duplications(s, NeedFilter(), viewer=viewer)
    )
    assert [(r.need.id, r.year, r.providers) for r in rows] == [
        (ids["rs_centre"], 2026, ["DE", "EC"])
    ]
    assert (
        people.run(lambda s: analysis.duplications(s, NeedFilter(partner="AL"), viewer=viewer))
        == []
    )

    matrix: analysis.Matrix = people.run(
        lambda s: analysis.coverage_matrix(s, NeedFilter(), viewer=viewer)
    )
    assert matrix.rows == [p.code for p in WB_PARTNERS] and matrix.columns == list(PILLARS)
    al = matrix.cell("AL", "WBCTi")
    assert (al.needs, al.with_response, al.share) == (2, 1, 0.5)
    assert matrix.cell("BA", "WBCTi").share is None
    listed: list[Need] = people.run(lambda s: search.search_needs(s, al.filter, viewer=viewer))
    assert sorted(n.id for n in listed) == sorted([ids["al_law"], ids["al_train"]])
    by_sub: analysis.Matrix = people.run(
        lambda s: analysis.coverage_matrix(s, NeedFilter(pillar="WBBSi"), viewer=viewer)
    )
    assert by_sub.column_kind == "sub_pillar"
    assert by_sub.cell("MK", "none").needs == 1
    assert by_sub.cell("RS", "institutional_setup").with_response == 1
    mk: list[Need] = people.run(
        lambda s: search.search_needs(s, by_sub.cell("MK", "none").filter, viewer=viewer)
    )
    assert [n.id for n in mk] == [ids["mk_old"]]

    points: list[analysis.TrendPoint] = people.run(
        lambda s: analysis.trends(s, NeedFilter(), viewer=viewer)
    )
    assert [(p.year, p.needs, p.responses, p.covered) for p in points] == [
        (2024, 3, 0, 2),
        (2025, 0, 3, 0),
        (2026, 3, 3, 1),
    ]


def test_a_focal_point_updates_only_its_own_partners_needs_and_every_change_is_kept(
    people: People,
) -> None:
    ids = seed(people)
    clock = people.iisg.clock
    fp = people.fp[("AL", "WBCTi")]
    people.run(
        lambda s: changes.update_need(
            s,
            ids["al_train"],
            {"status": "partly_addressed", "description": "Training of 40 first responders."},
            viewer=fp,
            now=clock.now(),
        )
    )
    detail: search.NeedDetail = people.run(lambda s: search.need_detail(s, ids["al_train"], fp))
    assert detail.need.status == "partly_addressed" and detail.need.updated_by == fp.username
    assert detail.may_edit
    [change] = detail.history
    assert change.changed_by == fp.username and change.changes["status"] == {
        "before": "open",
        "after": "partly_addressed",
    }
    with people.iisg.db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "need.updated")).one()
        assert event.actor == fp.username and event.payload["need"] == ids["al_train"]

    with pytest.raises(NotAllowed, match="Serbia's focal points for WBBSi"):
        people.run(
            lambda s: changes.update_need(
                s, ids["rs_centre"], {"status": "addressed"}, viewer=fp, now=clock.now()
            )
        )
    # Albania's focal point for border security does not speak for its WBCTi needs.
    with pytest.raises(NotAllowed):
        people.run(
            lambda s: changes.update_need(
                s,
                ids["al_law"],
                {"status": "addressed"},
                viewer=people.fp[("AL", "WBBSi")],
                now=clock.now(),
            )
        )
    with pytest.raises(RequestRefused, match="not a status"):
        people.run(
            lambda s: changes.update_need(
                s, ids["al_law"], {"status": "finished"}, viewer=fp, now=clock.now()
            )
        )
    with pytest.raises(RequestRefused, match="partner cannot be changed"):
        people.run(
            lambda s: changes.update_need(
                s, ids["al_law"], {"partner": "RS"}, viewer=fp, now=clock.now()
            )
        )
    people.run(
        lambda s: changes.update_need(
            s, ids["rs_centre"], {"status": "addressed"}, viewer=people.secretariat, now=clock.now()
        )
    )
    with people.iisg.db.session() as s:
        assert s.get_one(Need, ids["rs_centre"]).status == "addressed"
        assert s.scalars(select(NeedChange.need_id).order_by(NeedChange.id)).all() == [
            ids["al_train"],
            ids["rs_centre"],
        ]


def test_partners_and_support_group_add_responses_each_for_their_own(people: People) -> None:
    ids = seed(people)
    now = people.iisg.clock.now()
    data = {"description": "A project.", "period": "planned", "status": "planned", "year": 2027}
    own: Response = people.run(
        lambda s: changes.add_response(
            s, ids["al_train"], data, viewer=people.fp[("AL", "WBCTi")], now=now
        )
    )
    assert (own.provider, own.provider_kind, own.year) == ("AL", "partner", 2027)
    support: Response = people.run(
        lambda s: changes.add_response(
            s, ids["al_train"], {**data, "funding": "GIZ"}, viewer=people.sg["WBCTi"], now=now
        )
    )
    assert (support.provider, support.provider_kind, support.funding) == (
        "EC",
        "project_support",
        "GIZ",
    )
    # The WBCSCi Support Group is not asked about counter-terrorism needs.
    with pytest.raises(NotAllowed):
        people.run(
            lambda s: changes.add_response(
                s, ids["al_train"], data, viewer=people.sg["WBCSCi"], now=now
            )
        )
    with pytest.raises(NotAllowed):
        people.run(
            lambda s: changes.update_response(
                s, own.id, {"status": "completed"}, viewer=people.sg["WBCTi"], now=now
            )
        )
    people.run(
        lambda s: changes.update_response(
            s, support.id, {"status": "ongoing"}, viewer=people.sg["WBCTi"], now=now
        )
    )
    later = now + timedelta(days=1)
    people.run(
        lambda s: changes.update_response(
            s, own.id, {"status": "completed"}, viewer=people.fp[("AL", "WBCTi")], now=later
        )
    )
    detail: search.NeedDetail = people.run(
        lambda s: search.need_detail(s, ids["al_train"], people.secretariat)
    )
    assert [r.status for r in detail.responses] == ["completed", "ongoing"]
    assert len(detail.history) == 4
    assert f"response_{own.id}.status" in detail.history[0].changes


def test_an_observer_reads_but_cannot_write_and_non_members_read_nothing(people: People) -> None:
    ids = seed(people)
    now = people.iisg.clock.now()
    observer = people.observer
    assert len(people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=observer))) == 6
    assert len(people.run(lambda s: search.search_responses(s, NeedFilter(), viewer=observer))) == 6
    for write in (
        lambda s: changes.update_need(
            s, ids["al_law"], {"status": "addressed"}, viewer=observer, now=now
        ),
        lambda s: changes.add_response(
            s,
            ids["al_law"],
            {"description": "x", "period": "planned", "status": "planned"},
            viewer=observer,
            now=now,
        ),
        lambda s: changes.add_need(
            s,
            {"partner": "AL", "pillar": "WBCTi", "kind": "operational"},
            viewer=observer,
            now=now,
        ),
        lambda s: db_reports.draft_report_docx(s, "needs_mapping", "WBCTi", 2026, viewer=observer),
    ):
        with pytest.raises(NotAllowed):
            people.run(write)
    # A plain member reads and writes nothing either.
    with pytest.raises(NotAllowed):
        people.run(
            lambda s: changes.update_need(
                s, ids["al_law"], {"status": "addressed"}, viewer=people.other_member, now=now
            )
        )
    for outsider in (people.applicant, None):
        for read in (
            lambda s, o=outsider: search.search_needs(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: search.search_responses(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: search.need_detail(s, ids["al_law"], o),
            lambda s, o=outsider: analysis.gaps(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: analysis.duplications(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: analysis.coverage_matrix(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: analysis.trends(s, NeedFilter(), viewer=o),
            lambda s, o=outsider: db_reports.reports(s, viewer=o),
        ):
            with pytest.raises(NoAccess, match="members only"):
                people.run(read)
    with people.iisg.db.session() as s:
        assert s.scalars(select(NeedChange)).all() == []


def test_reading_follows_membership_of_the_persons_organisation(
    people: People, make_person: Callable[..., Participant]
) -> None:
    seed(people)

    def reads(viewer: Participant) -> int:
        return len(people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=viewer)))

    # A person of a member organisation reads, in whichever role.
    assert reads(people.other_member) == 6
    assert reads(people.observer) == 6
    # An observer named without an organisation speaks for no member: refused.
    alone = make_person("observer-alone", Grant("observer"))
    with pytest.raises(NoAccess, match="members only"):
        people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=alone))
    # A focal point of an organisation that is not a member (an applicant) is refused, ...
    outsider = make_person("fp-xy", Grant("focal_point", "XY", "WBCTi"), Grant("member", "XY"))

    def set_membership(code: str, member: bool, status: str) -> None:
        def work(s: Session) -> None:
            organisation = s.get(Organisation, code)
            assert organisation is not None
            organisation.is_member, organisation.status = member, status

        people.run(work)

    set_membership("XY", False, "applicant")
    with pytest.raises(NoAccess, match="members only"):
        people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=outsider))
    # ... and a member's person reads only while the organisation is a member.
    set_membership("AT", False, "left")
    with pytest.raises(NoAccess, match="members only"):
        people.run(lambda s: search.search_needs(s, NeedFilter(), viewer=people.other_member))
    set_membership("AT", True, "member")
    assert reads(people.other_member) == 6
    # The Secretariat reads without an organisation.
    assert reads(people.iisg.secretariat) == 6


def test_a_focal_point_adds_a_need_between_mappings(people: People) -> None:
    now = people.iisg.clock.now()
    need: Need = people.run(
        lambda s: changes.add_need(
            s,
            {
                "partner": "ME",
                "pillar": "WBCSCi",
                "sub_pillar": "legal_framework",
                "kind": "legislative",
                "perspective": "response",
                "description": "A law on the confiscation of criminal assets.",
            },
            viewer=people.fp[("ME", "WBCSCi")],
            now=now,
        )
    )
    assert (need.source_kind, need.source_year, need.status) == ("member_update", now.year, "open")
    with pytest.raises(NotAllowed):
        people.run(
            lambda s: changes.add_need(
                s,
                {"partner": "RS", "pillar": "WBCSCi", "kind": "legislative"},
                viewer=people.fp[("ME", "WBCSCi")],
                now=now,
            )
        )


def test_the_draft_report_holds_each_sub_pillars_inputs(people: People) -> None:
    ids = seed(people)

    def heading_texts(data: bytes) -> tuple[list[str], str]:
        doc = DocxDocument(io.BytesIO(data))
        headings = [
            p.text
            for p in doc.paragraphs
            if p.style is not None and (p.style.name or "").startswith(("Heading", "Title"))
        ]
        return headings, "\n".join(p.text for p in doc.paragraphs)

    needs_draft: bytes = people.run(
        lambda s: db_reports.draft_report_docx(
            s, "needs_mapping", "WBCTi", 2026, viewer=people.secretariat
        )
    )
    headings, text = heading_texts(needs_draft)
    assert headings == [
        "Needs mapping 2026: WBCTi",
        "Legal framework",
        "Institutional set-up",
        "Capacity building",
        "Albania",
        "Coordination and cooperation",
        "Kosovo*",
    ]
    assert "Need al_train of AL." in text and "Need xk_refer of XK." in text
    assert "Need al_law of AL." not in text  # mapped in 2024

    responses_draft: bytes = people.run(
        lambda s: db_reports.draft_report_docx(
            s, "response_mapping", "WBCTi", 2025, viewer=people.secretariat
        )
    )
    headings, text = heading_texts(responses_draft)
    assert headings[:3] == ["Annual response mapping 2025: WBCTi", "Legal framework", "Albania"]
    assert "Albania: Response by AL to al_law." in text
    assert "European Commission: Response by EC to al_law." in text
    assert ids


def test_exports_hold_exactly_the_filtered_rows(people: People) -> None:
    ids = seed(people)
    viewer = people.fp[("RS", "WBBSi")]
    wanted = NeedFilter(pillar="WBCTi", status="open")
    needs: list[Need] = people.run(lambda s: search.search_needs(s, wanted, viewer=viewer))
    assert sorted(n.id for n in needs) == sorted([ids["al_law"], ids["al_train"], ids["xk_refer"]])

    parsed = list(csv.DictReader(io.StringIO(exports.export_csv(needs, exports.NEED_COLUMNS))))
    assert [int(r["ID"]) for r in parsed] == [n.id for n in needs]
    assert {r["Partner"] for r in parsed} == {"Albania", "Kosovo*"}

    book = load_workbook(io.BytesIO(exports.export_xlsx(needs, exports.NEED_COLUMNS)))
    sheet = book.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(c.heading for c in exports.NEED_COLUMNS)
    assert [row[0] for row in values[1:]] == [n.id for n in needs]

    responses: list[Response] = people.run(
        lambda s: search.search_responses(
            s, NeedFilter(provider_kind="project_support"), viewer=viewer
        )
    )
    assert len(responses) == 4
    parsed = list(
        csv.DictReader(io.StringIO(exports.export_csv(responses, exports.RESPONSE_COLUMNS)))
    )
    assert [int(r["ID"]) for r in parsed] == [r.id for r in responses]
    sheet = load_workbook(
        io.BytesIO(exports.export_xlsx(responses, exports.RESPONSE_COLUMNS))
    ).active
    assert sheet is not None and sheet.max_row == 1 + len(responses)


def test_a_formula_in_a_description_is_exported_as_text(people: People) -> None:
    ids = seed(people)
    now = people.iisg.clock.now()
    people.run(
        lambda s: changes.update_need(
            s,
            ids["al_law"],
            {"description": '=HYPERLINK("http://x")'},
            viewer=people.secretariat,
            now=now,
        )
    )
    needs: list[Need] = people.run(
        lambda s: search.search_needs(s, NeedFilter(text="hyperlink"), viewer=people.observer)
    )
    assert [n.id for n in needs] == [ids["al_law"]]
    [row] = list(csv.DictReader(io.StringIO(exports.export_csv(needs, exports.NEED_COLUMNS))))
    assert row["Description"] == '\'=HYPERLINK("http://x")'


def _description_cell_in_xlsx(people: People, typed: str) -> Cell | MergedCell:
    """The XLSX export's Description cell of Albania's law-enforcement need, once its
    description is `typed`."""
    ids = seed(people)
    now = people.iisg.clock.now()
    people.run(
        lambda s: changes.update_need(
            s, ids["al_law"], {"description": typed}, viewer=people.secretariat, now=now
        )
    )
    needs: list[Need] = people.run(
        lambda s: search.search_needs(s, NeedFilter(partner="AL"), viewer=people.observer)
    )
    sheet = load_workbook(io.BytesIO(exports.export_xlsx(needs, exports.NEED_COLUMNS))).active
    assert sheet is not None
    headings = [cell.value for cell in sheet[1]]
    [cell] = [
        row[headings.index("Description")]
        for row in sheet.iter_rows(min_row=2)
        if row[0].value == ids["al_law"]
    ]
    return cell


@pytest.mark.parametrize("typed", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_a_formula_in_an_xlsx_export_is_the_text_as_typed_never_run(
    people: People, typed: str
) -> None:
    cell = _description_cell_in_xlsx(people, typed)

    # The cell holds the text exactly as typed, as text a spreadsheet shows and never runs.
    assert (cell.value, cell.data_type, cell.quotePrefix) == (typed, "s", True)


def test_a_control_character_pasted_into_a_need_still_exports_to_xlsx(people: People) -> None:
    cell = _description_cell_in_xlsx(people, "Border\x01 law\x1b")

    # XLSX cannot hold the control characters: each is shown as the replacement character.
    assert cell.value == "Border\ufffd law\ufffd"


def test_public_summaries_hold_approved_and_published_summaries_only(people: People) -> None:
    now = people.iisg.clock.now()

    def work(s: Session) -> None:
        for pillar, status, published in (
            ("WBCTi", "published", True),
            ("WBCSCi", "approved", False),
            ("WBBSi", "draft", False),
        ):
            s.add(
                Report(
                    kind="response_mapping",
                    pillar=pillar,
                    year=2026,
                    summary=f"Summary {pillar}.",
                    body="The full report, for members.",
                    status=status,
                    approved_at=now if status != "draft" else None,
                    published_at=now if published else None,
                )
            )

    people.run(work)
    summaries: list[Report] = people.run(db_reports.public_summaries)
    assert [(r.pillar, r.summary) for r in summaries] == [("WBCTi", "Summary WBCTi.")]
    # Members read the approved reports; the Secretariat also the draft it is preparing.
    approved: list[Report] = people.run(lambda s: db_reports.reports(s, viewer=people.observer))
    assert sorted(r.pillar for r in approved) == ["WBCSCi", "WBCTi"]
    everything: list[Report] = people.run(
        lambda s: db_reports.reports(s, viewer=people.secretariat)
    )
    assert len(everything) == 3


def test_a_filter_goes_to_query_parameters_and_back() -> None:
    f = NeedFilter(partner="AL", year=2026, has_response=False, sub_pillar="none")
    params = f.to_params()
    assert params == {"partner": "AL", "sub_pillar": "none", "year": "2026", "has_response": "no"}
    assert NeedFilter.from_params(params) == f
    assert (
        NeedFilter.from_params({"year": "soon", "has_response": "maybe", "x": "y"}) == NeedFilter()
    )


def test_the_demo_fills_the_database_with_a_two_year_history_once_and_fast(iisg: Iisg) -> None:
    now = iisg.clock.now()
    iisg.db.run(lambda s: load_demo(s, "demo-password", now=now))
    started = time.perf_counter()
    first: bool = iisg.db.run(lambda s: load_database_history(s, now=now))
    took = time.perf_counter() - started
    assert first and took < 2, f"the demo history took {took:.2f} s"
    assert iisg.db.run(lambda s: load_database_history(s, now=now)) is False
    viewer = Participant("reader", frozenset({Grant("observer"), Grant("member", "EEAS")}))

    def look(s: Session) -> tuple[Any, ...]:
        needs = search.search_needs(s, NeedFilter(), viewer=viewer)
        return (
            needs,
            search.search_responses(s, NeedFilter(), viewer=viewer),
            analysis.gaps(s, NeedFilter(), viewer=viewer),
            analysis.duplications(s, NeedFilter(), viewer=viewer),
            analysis.trends(s, NeedFilter(), viewer=viewer),
            db_reports.public_summaries(s),
        )

    needs, responses, gaps, duplicated, points, summaries = iisg.db.run(look)
    assert len(needs) == len(WB_PARTNERS) * len(PILLARS) * 5
    assert {n.partner for n in needs} == {p.code for p in WB_PARTNERS}
    assert {n.source_year for n in needs} == {2024, 2026}
    assert {n.sub_pillar for n in needs} == set(SUB_PILLARS)
    assert {n.kind for n in needs} == set(NEED_KINDS)
    assert {n.perspective for n in needs} == set(PERSPECTIVES)
    assert {r.provider_kind for r in responses} == {"partner", "project_support"}
    assert {r.year for r in responses} == {2025, 2026}
    assert gaps and duplicated
    assert [p.year for p in points] == [2024, 2025, 2026]
    assert len(summaries) == 9


def test_the_secretariat_uploads_the_edited_report_back(people: People, tmp_path: Path) -> None:
    seed(people)
    iisg = people.iisg
    now = iisg.clock.now()
    instance_id = iisg.start(
        "board_decision", {"subject": "Reports", "proposal": "The Board approves the reports."}
    )

    def add_report(s: Session) -> int:
        report = Report(
            kind="needs_mapping",
            pillar="WBCTi",
            year=2026,
            summary="Summary.",
            status="draft",
            instance_id=instance_id,
        )
        s.add(report)
        s.flush()
        return report.id

    report_id: int = people.run(add_report)
    draft: bytes = people.run(
        lambda s: db_reports.draft_report_docx(
            s, "needs_mapping", "WBCTi", 2026, viewer=people.secretariat
        )
    )
    refusals: tuple[tuple[Participant, type[Exception]], ...] = (
        (people.observer, NotAllowed),
        (people.applicant, NoAccess),
    )
    for who, error in refusals:

        def upload(s: Session, who: Participant = who) -> None:
            db_reports.upload_report(
                s,
                report_id,
                db_reports.check_report_upload("report.docx", draft),
                viewer=who,
                now=now,
                directory=tmp_path,
            )

        with pytest.raises(error):
            people.run(upload)
    with pytest.raises(RequestRefused, match=r"must be a Word document \(\.docx\)"):
        db_reports.check_report_upload("report.exe", b"MZ")
    with pytest.raises(RequestRefused, match="is empty"):
        db_reports.check_report_upload("report.docx", b"")
    people.run(
        lambda s: db_reports.upload_report(
            s,
            report_id,
            db_reports.check_report_upload("WBCTi needs report.docx", draft),
            viewer=people.secretariat,
            now=now,
            directory=tmp_path,
        )
    )
    with iisg.db.session() as s:
        report = s.get_one(Report, report_id)
        assert report.document_id is not None
        document = s.get_one(Document, report.document_id)
        assert (document.instance_id, document.filename) == (instance_id, "WBCTi needs report.docx")
        path = stored_path(tmp_path, instance_id, document.stored_name)
        assert DocxDocument(io.BytesIO(path.read_bytes())).paragraphs[0].text == (
            "Needs mapping 2026: WBCTi"
        )
        kinds = s.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)).all()
        assert kinds[-2:] == ["document.uploaded", "report.uploaded"]
