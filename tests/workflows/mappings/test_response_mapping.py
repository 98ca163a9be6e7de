"""The annual response mapping in four phases (PROCEDURES.md section 3, seed 004)."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from docx import Document as DocxDocument
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError, FormInvalid, NotAllowed, Refused
from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from engine.instances.steps import complete_task
from models import Document, HumanTask, Need, ProcessInstance, Report, Response
from tests.workflows.conftest import Iisg
from workflows.board.frozen import frozen_hash
from workflows.demo import load_demo
from workflows.inbox.documents import add_document, check_upload, documents_directory, file_of
from workflows.mappings.response_mapping import (
    DEMO_RESPONSE_MAPPING_KEY,
    start_demo_response_mapping,
)
from workflows.needs_database import analysis, search
from workflows.needs_database.filters import NeedFilter
from workflows.people.accounts import find_user, participant
from workflows.people.roles import PILLARS, WB_PARTNERS

# (partner, pillar, description): the needs mapped by the last needs mapping.
MAPPED_NEEDS = (
    ("AL", "WBCTi", "Align the law on preventing violent extremism with the EU acquis."),
    ("AL", "WBCTi", "A referral mechanism for radicalised persons."),
    ("AL", "WBBSi", "Train border police in detecting forged travel documents."),
    ("RS", "WBCSCi", "Set up a national asset recovery office."),
    ("ME", "WBCTi", "A national coordinator for preventing violent extremism."),
)
ASKED = {"AL-WBCTi", "AL-WBBSi", "RS-WBCSCi", "ME-WBCTi"}


@dataclass
class Mapping:
    """The IISG at work on a response mapping: focal points, Support Group, mapped needs."""

    iisg: Iisg
    focal_points: dict[tuple[str, str], Participant]
    support_group: dict[str, Participant]
    needs: dict[str, list[int]]  # "AL-WBCTi" -> need ids

    def fp(self, partner: str, pillar: str) -> Participant:
        return self.focal_points[(partner, pillar)]

    def request_of(self, person: Participant, instance_id: int, bpmn_id: str) -> dict[str, Any]:
        """The data the person's open task carries (the request with its needs)."""
        task_row = self.iisg.task(person, bpmn_id, instance_id)
        with self.iisg.db.session() as s:
            task = load(s, instance_id).workflow.get_task_from_id(UUID(task_row.task_guid))
            return dict(task.data)


@pytest.fixture
def mapping(iisg: Iisg, make_person: Callable[..., Participant]) -> Mapping:
    focal_points = {
        (p.code, pillar): make_person(
            f"fp-{p.code.lower()}-{pillar.lower()}", Grant("focal_point", p.code, pillar)
        )
        for p in WB_PARTNERS
        for pillar in PILLARS
    }
    support_group = {
        pillar: make_person(
            f"sg-{pillar.lower()}", Grant("support_group", "EC", pillar), Grant("member", "EC")
        )
        for pillar in PILLARS
    }

    def seed(session: Session) -> dict[str, list[int]]:
        now = iisg.clock.now()
        found: dict[str, list[int]] = {}
        for partner, pillar, description in MAPPED_NEEDS:
            need = Need(
                partner=partner,
                pillar=pillar,
                sub_pillar="legal_framework",
                kind="legislative",
                perspective="prevention",
                description=description,
                source_year=2025,
                status="open",
                created_at=now,
                updated_at=now,
            )
            session.add(need)
            session.flush()
            found.setdefault(f"{partner}-{pillar}", []).append(need.id)
        return found

    needs: dict[str, list[int]] = iisg.db.run(seed)
    return Mapping(iisg, focal_points, support_group, needs)


def focal_point_of(iisg: Iisg, partner: str) -> Participant | None:
    """The partner's focal point for WBCTi as the mapping fixture names it, if there is one."""
    with iisg.db.session() as s:
        user = find_user(s, f"fp-{partner.lower()}-wbcti")
        return participant(user) if user is not None else None


def partners_answer(
    iisg: Iisg, instance_id: int, step: str, answers: dict[str, dict[str, Any]] | None = None
) -> None:
    """Each WB partner answers `step` (agree, unless `answers` says otherwise) through its
    focal point; where some have no focal point, the agreement deadline passes for them."""
    with iisg.db.session() as s:
        waiting = s.scalars(
            select(HumanTask.organisation).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == step,
                HumanTask.status == "open",
            )
        ).all()
    people = {str(code): focal_point_of(iisg, str(code)) for code in waiting}
    for code, person in people.items():
        if person is not None:
            answer = (answers or {}).get(code, {"agreement_answer": "agree"})
            iisg.complete(person, step, instance_id, answer)
    if any(person is None for person in people.values()):
        iisg.clock.move(days=8)  # five working days, a weekend between
        iisg.scheduler_pass()


def open_mapping(iisg: Iisg, input_deadline: str | None = None) -> int:
    """Phase 1 and the start of phase 2, up to the request for information."""
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    secretariat = iisg.secretariat
    calendar: dict[str, Any] = {"calendar": "Input in four weeks; Board in ten."}
    if input_deadline is not None:
        calendar["input_deadline"] = input_deadline
    iisg.complete(secretariat, "prepare_draft_calendar", instance_id, calendar)
    partners_answer(iisg, instance_id, "agree_calendar")
    iisg.complete(
        secretariat,
        "agree_calendar_with_wb_partners",
        instance_id,
        {"calendar_agreement": "agreed"},
    )
    iisg.complete(
        secretariat, "analyse_latest_needs", instance_id, {"needs_analysis": "As mapped."}
    )
    iisg.complete(
        secretariat,
        "review_database_developments",
        instance_id,
        {"database_review": "Two new projects."},
    )
    iisg.complete(
        secretariat,
        "propose_report_structure",
        instance_id,
        {
            "legal_framework": "Laws and their implementation.",
            "institutional_setup": "Bodies and enforcement.",
            "capacity_building": "Training and equipment.",
            "coordination_cooperation": "National and regional coordination.",
        },
    )
    partners_answer(iisg, instance_id, "agree_structure")
    iisg.complete(
        secretariat,
        "convoke_meeting_of_wb_partners",
        instance_id,
        {"meeting_of_wb_partners": "2026-11-24", "structure_agreement": "agreed"},
    )
    iisg.complete(
        secretariat,
        "request_state_of_play",
        instance_id,
        {"request_to_partners": "Please send the state of play of your mapped needs."},
    )
    return instance_id


def deliver(mapping: Mapping, instance_id: int, key: str, status: str = "ongoing") -> None:
    """The partner's focal point answers for each of its needs in the pillar."""
    partner, pillar = key.split("-")
    mapping.iisg.complete(
        mapping.fp(partner, pillar),
        "deliver_information",
        instance_id,
        {
            "state_of_play": f"State of play of {key}.",
            "responses": [
                {
                    "need_id": need_id,
                    "response": f"Response of {partner} to need {need_id}.",
                    "period": "past_year",
                    "status": status,
                }
                for need_id in mapping.needs[key]
            ],
        },
    )


def develop_to_final_draft(mapping: Mapping, instance_id: int) -> None:
    """Every partner delivers; first draft, Support Group, consultations."""
    iisg = mapping.iisg
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)
    iisg.complete(iisg.secretariat, "prepare_first_draft", instance_id, {"first_draft": "Draft."})
    iisg.complete(
        mapping.support_group["WBCTi"],
        "add_project_support",
        instance_id,
        {
            "support": [
                {
                    "need_id": mapping.needs["ME-WBCTi"][0],
                    "project": "EU-funded project on P/CVE coordination.",
                    "period": "past_year",
                    "status": "completed",
                    "funding": "IPA III",
                }
            ]
        },
    )
    for pillar in ("WBCSCi", "WBBSi"):
        iisg.complete(mapping.support_group[pillar], "add_project_support", instance_id, {})
    iisg.complete(
        iisg.secretariat,
        "consult_on_first_draft",
        instance_id,
        {
            "local_consultations": "With the focal points in each partner.",
            "regional_consultations": "At the pillar meetings.",
            "consultation_outcome": "complemented",
        },
    )


FINAL_DRAFT = {
    f"{field}_{pillar.lower()}": f"{field.capitalize()} for {pillar}."
    for pillar in PILLARS
    for field in ("summary", "report")
}


def board_meeting(iisg: Iisg, instance_id: int, outcome: str) -> None:
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": outcome, "meeting_date": "2027-02-01", "minutes": f"The Board: {outcome}."},
    )


def reports_of(iisg: Iisg, instance_id: int) -> list[Report]:
    with iisg.db.session() as s:
        return list(
            s.scalars(select(Report).where(Report.instance_id == instance_id).order_by(Report.id))
        )


def test_the_response_mapping_runs_through_all_four_phases(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    develop_to_final_draft(mapping, instance_id)
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)
    board_meeting(iisg, instance_id, "adopted")

    decision = iisg.decision(instance_id)
    assert decision.subject == "Annual Response Mapping reports 2026"
    assert "Summary, WBBSi:\nSummary for WBBSi." in decision.text
    reports = reports_of(iisg, instance_id)
    assert [(r.pillar, r.year, r.status, r.decision_id) for r in reports] == [
        ("WBCTi", 2026, "published", decision.id),
        ("WBCSCi", 2026, "published", decision.id),
        ("WBBSi", 2026, "published", decision.id),
    ]
    assert all(r.published_at == iisg.clock.now() and r.approved_at for r in reports)
    assert reports[0].summary == "Summary for WBCTi." and reports[0].body == "Report for WBCTi."

    with iisg.db.session() as s:
        responses = s.scalars(select(Response).order_by(Response.id)).all()
        linked = {(r.need_id, r.provider, r.period, r.status) for r in responses}
        assert linked == {
            *((n, key[:2], "past_year", "ongoing") for key in ASKED for n in mapping.needs[key]),
            (mapping.needs["ME-WBCTi"][0], "EC", "past_year", "completed"),
        }
        assert {r.source_instance_id for r in responses} == {instance_id}
        row = s.get_one(ProcessInstance, instance_id)
        assert row.status == "completed"
    data = iisg.data(instance_id)
    assert set(data["partner_inputs"]) == ASKED
    assert data["partner_inputs"]["RS-WBCSCi"]["state_of_play"] == "State of play of RS-WBCSCi."
    assert data["project_support"]["EC-WBCTi"]["provider"] == "EC"


def test_a_late_partner_is_escalated_to_the_secretariat_and_can_still_deliver(
    mapping: Mapping,
) -> None:
    iisg = mapping.iisg
    deadline = iisg.clock.now() + timedelta(days=14)
    instance_id = open_mapping(iisg, input_deadline=deadline.isoformat())
    late = mapping.fp("RS", "WBCSCi")
    assert iisg.task(late, "deliver_information", instance_id).due_at == deadline
    for key in ASKED - {"RS-WBCSCi"}:
        deliver(mapping, instance_id, key)

    iisg.clock.move(days=13, hours=23)
    assert iisg.scheduler_pass().fired_count == 0
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []  # nothing escalates before it

    iisg.clock.move(hours=1, seconds=1)
    assert iisg.scheduler_pass().fired_count == 1
    assert iisg.task(late, "deliver_information", instance_id).status == "open"
    follow_up = iisg.task(iisg.secretariat, "follow_up_late_input", instance_id)
    assert follow_up.role == "secretariat"
    assert follow_up.about == "Serbia, WBCSCi"  # the inbox says who is late, for what
    assert (
        mapping.request_of(iisg.secretariat, instance_id, "follow_up_late_input")[
            "information_request"
        ]["partner"]
        == "RS"
    )
    iisg.complete(
        iisg.secretariat,
        "follow_up_late_input",
        instance_id,
        {"follow_up": "Reminded the focal point by e-mail."},
    )

    # Late information is still accepted, and recorded against the partner's need.
    deliver(mapping, instance_id, "RS-WBCSCi")
    assert iisg.task_statuses(instance_id, "deliver_information") == ["completed"] * 4
    with iisg.db.session() as s:
        recorded = s.scalars(
            select(Response.provider).where(Response.need_id == mapping.needs["RS-WBCSCi"][0])
        ).all()
        assert recorded == ["RS"]
    for pillar, person in mapping.support_group.items():
        assert [(t.bpmn_id, t.pillar) for t in iisg.tasks_of(person, instance_id)] == [
            ("add_project_support", pillar)
        ]


def test_the_input_deadline_defaults_to_twenty_working_days(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)  # started on Monday 23 November 2026, 09:00 UTC
    expected = iisg.clock.now() + timedelta(days=28)  # twenty working days: four weeks
    with iisg.db.session() as s:
        due = s.scalars(
            select(HumanTask.due_at).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "deliver_information"
            )
        ).all()
    assert due == [expected] * len(ASKED)


def test_a_calendar_the_partners_want_changed_is_drafted_again(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = iisg.start("response_mapping", {})
    with pytest.raises(FormInvalid) as refused:  # a deadline needs its offset from UTC
        iisg.complete(
            iisg.secretariat,
            "prepare_draft_calendar",
            instance_id,
            {"calendar": "Input by 18 December.", "input_deadline": "2026-12-18T17:00:00"},
        )
    assert "input_deadline" in refused.value.errors
    iisg.complete(
        iisg.secretariat,
        "prepare_draft_calendar",
        instance_id,
        {"calendar": "Input by 18 December.", "input_deadline": "2026-12-18T17:00:00+01:00"},
    )
    partners_answer(
        iisg,
        instance_id,
        "agree_calendar",
        {"AL": {"agreement_answer": "comment", "agreement_comment": "Too close to the holidays."}},
    )
    iisg.complete(
        iisg.secretariat,
        "agree_calendar_with_wb_partners",
        instance_id,
        {"calendar_agreement": "revise", "calendar_comments": "Too close to the holidays."},
    )
    iisg.complete(
        iisg.secretariat,
        "prepare_draft_calendar",
        instance_id,
        {"calendar": "Input by 15 January.", "input_deadline": "2027-01-15T17:00:00+01:00"},
    )
    partners_answer(iisg, instance_id, "agree_calendar")
    iisg.complete(
        iisg.secretariat,
        "agree_calendar_with_wb_partners",
        instance_id,
        {"calendar_agreement": "agreed"},
    )
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "analyse_latest_needs"
    ]
    data = mapping.request_of(iisg.secretariat, instance_id, "analyse_latest_needs")
    assert data["input_deadline"] == "2027-01-15T17:00:00+01:00"
    assert data["report_year"] == 2026  # the current year, when the start leaves it empty
    assert data["latest_needs"]["AL"] == {"WBCTi": 2, "WBCSCi": 0, "WBBSi": 1}


def test_an_input_deadline_that_has_passed_is_refused_in_the_calendar(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    yesterday = (iisg.clock.now() - timedelta(days=1)).isoformat()
    with pytest.raises(Refused) as refused:
        iisg.complete(
            iisg.secretariat,
            "prepare_draft_calendar",
            instance_id,
            {"calendar": "Input by yesterday.", "input_deadline": yesterday},
        )
    assert refused.value.errors == {
        "input_deadline": "The deadline for the WB partners' information must be at least "
        "24 hours from now: after 24 November 2026, 09:00 UTC."
    }
    task = iisg.task(iisg.secretariat, "prepare_draft_calendar", instance_id)
    assert task.status == "open"


def test_each_partner_sees_only_its_own_pillar_tasks_and_its_own_needs(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    for (partner, pillar), person in mapping.focal_points.items():
        tasks = iisg.tasks_of(person, instance_id)
        key = f"{partner}-{pillar}"
        if key not in ASKED:
            assert tasks == [], f"{person.username} sees {tasks}"
            continue
        assert [(t.bpmn_id, t.organisation, t.pillar) for t in tasks] == [
            ("deliver_information", partner, pillar)
        ]
        data = mapping.request_of(person, instance_id, "deliver_information")
        assert data["information_request"]["partner"] == partner
        assert [n["id"] for n in data["own_needs"]] == mapping.needs[key]
        assert {n["partner"] for n in data["own_needs"]} == {partner}
        # The task page lists the partner's own needs, and nobody else's.
        listed = tasks[0].documentation
        for need in data["own_needs"]:
            assert f"Need {need['id']} ({need['kind']}, {need['perspective']})" in listed
        assert listed.count("Need ") == len(data["own_needs"])
    for person in mapping.support_group.values():
        assert iisg.tasks_of(person, instance_id) == []

    # Serbia's focal point cannot answer Albania's task,
    al_task = iisg.task(mapping.fp("AL", "WBCTi"), "deliver_information", instance_id)
    with pytest.raises(NotAllowed):
        iisg.db.run(
            lambda s: complete_task(
                s,
                al_task.id,
                {"state_of_play": "Not ours."},
                participant=mapping.fp("RS", "WBCTi"),
                now=iisg.clock.now(),
            )
        )
    # and Albania cannot give a response to another partner's need.
    with pytest.raises(EngineError, match="is not on the list for this task: give one of"):
        iisg.complete(
            mapping.fp("AL", "WBCTi"),
            "deliver_information",
            instance_id,
            {
                "state_of_play": "Ongoing.",
                "responses": [
                    {
                        "need_id": mapping.needs["ME-WBCTi"][0],
                        "response": "Not ours to give.",
                        "period": "planned",
                        "status": "planned",
                    }
                ],
            },
        )
    assert iisg.task_statuses(instance_id, "deliver_information") == ["open"] * 4


def test_reports_the_board_does_not_approve_go_back_to_the_final_draft(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    develop_to_final_draft(mapping, instance_id)
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)
    board_meeting(iisg, instance_id, "not_adopted")
    first = iisg.decision(instance_id)
    assert first.outcome == "not_adopted"
    assert reports_of(iisg, instance_id) == []
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "prepare_final_draft"
    ]

    revised = {**FINAL_DRAFT, "summary_wbcti": "Revised summary for WBCTi."}
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, revised)
    board_meeting(iisg, instance_id, "adopted")
    second = iisg.decision(instance_id)
    assert second.id != first.id and second.outcome == "adopted"
    reports = reports_of(iisg, instance_id)
    assert [(r.pillar, r.status, r.decision_id) for r in reports] == [
        ("WBCTi", "published", second.id),
        ("WBCSCi", "published", second.id),
        ("WBBSi", "published", second.id),
    ]
    assert reports[0].summary == "Revised summary for WBCTi."


def test_the_demo_mapping_waits_in_the_development_phase(iisg: Iisg) -> None:
    def demo(session: Session) -> int | None:
        now = iisg.clock.now()
        load_demo(session, "demo-password", now=now)
        started = start_demo_response_mapping(session, now=now)
        assert start_demo_response_mapping(session, now=now) is None  # only once
        return started.id if started else None

    instance_id = iisg.db.run(demo)
    assert instance_id is not None
    with iisg.db.session() as s:
        row = s.get_one(ProcessInstance, instance_id)
        assert row.business_key == DEMO_RESPONSE_MAPPING_KEY
        deliveries = s.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "deliver_information"
            )
        ).all()
        statuses = {(t.organisation, t.pillar): t.status for t in deliveries}
        assert statuses[("AL", "WBCTi")] == "completed"
        assert statuses[("RS", "WBCSCi")] == "open"
        assert s.scalars(select(Response)).all()


def test_no_partner_is_asked_when_no_needs_are_mapped(iisg: Iisg) -> None:
    instance_id = open_mapping(iisg)
    assert iisg.task_statuses(instance_id, "deliver_information") == []
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "prepare_first_draft"
    ]


FINAL_REPORT = b"%PDF-1.7\nAnnual Response Mapping report 2026, WBCTi (final).\n"


def test_the_board_receives_the_reports_themselves_as_documents(mapping: Mapping) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    develop_to_final_draft(mapping, instance_id)

    # Uploaded to the procedure from a task page: the Secretariat's final report goes to the
    # Board; a focal point's note does not.
    def upload(person: Participant, name: str, data: bytes) -> None:
        checked = check_upload(name, data)
        iisg.db.run(
            lambda s: add_document(
                s,
                instance_id,
                checked,
                uploader=person,
                now=iisg.clock.now(),
                directory=documents_directory(),
            )
        )

    upload(iisg.secretariat, "ARM 2026 WBCTi final.pdf", FINAL_REPORT)
    upload(mapping.fp("AL", "WBCTi"), "note.txt", b"A focal point's note.")
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)
    board_meeting(iisg, instance_id, "adopted")

    decision = iisg.decision(instance_id)
    names = [str(entry["name"]) for entry in decision.documents]  # type: ignore[index]
    assert names == [
        "iisg-response-mapping-WBCTi-2026-draft.docx",
        "iisg-response-mapping-WBCSCi-2026-draft.docx",
        "iisg-response-mapping-WBBSi-2026-draft.docx",
        "ARM 2026 WBCTi final.pdf",
    ]
    with iisg.db.session() as s:
        for entry in decision.documents:
            row = s.get_one(Document, entry["id"])  # type: ignore[index]
            data = file_of(row, documents_directory()).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]  # type: ignore[index]
            assert row.instance_id == instance_id
        draft = s.get_one(Document, decision.documents[0]["id"])  # type: ignore[index]
        with zipfile.ZipFile(file_of(draft, documents_directory())) as docx:
            assert "word/document.xml" in docx.namelist()
    assert decision.frozen_sha256 == frozen_hash(
        decision.text,
        [str(entry["sha256"]) for entry in decision.documents],  # type: ignore[index]
    )


def _read(iisg: Iisg, person: Participant) -> set[tuple[str, str, int | None]]:
    """The responses the person reads in the IISG database: (provider, description, year)."""
    with iisg.db.session() as s:
        found = search.search_responses(s, NeedFilter(), viewer=person)
        return {(r.provider, r.description, r.year) for r in found}


def test_delivered_responses_are_the_mappings_draft_until_the_board_approves_the_reports(
    mapping: Mapping, make_person: Callable[..., Participant]
) -> None:
    """Response mapping methodology 2022, I.4 (Input into IISG Database): "The approved reports
    will be uploaded on the IISG Database, which is accessible only to the IISG members." What
    the partners and the Support Group deliver is the mapping's draft, read by the Secretariat,
    the partner that gave it and the Support Group of the pillar; it enters the database, with
    the mapping's year, when the Board approves the reports (I.3), not before."""
    iisg = mapping.iisg
    member = make_person("reader-de", Grant("member", "DE"))
    instance_id = open_mapping(iisg)
    develop_to_final_draft(mapping, instance_id)
    al_wbcti = {("AL", f"Response of AL to need {n}.", 2026) for n in mapping.needs["AL-WBCTi"]}
    me_wbcti = {("ME", f"Response of ME to need {mapping.needs['ME-WBCTi'][0]}.", 2026)}
    support = {("EC", "EU-funded project on P/CVE coordination.", 2026)}
    delivered = {
        (key[:2], f"Response of {key[:2]} to need {n}.", 2026)
        for key in ASKED
        for n in mapping.needs[key]
    } | support

    assert _read(iisg, iisg.secretariat) == delivered
    assert _read(iisg, mapping.fp("AL", "WBCTi")) == al_wbcti  # not its WBBSi, nor Montenegro's
    assert _read(iisg, mapping.support_group["WBCTi"]) == al_wbcti | me_wbcti | support
    assert _read(iisg, mapping.support_group["WBBSi"]) == {
        ("AL", f"Response of AL to need {mapping.needs['AL-WBBSi'][0]}.", 2026)
    }
    assert _read(iisg, member) == set()
    with iisg.db.session() as s:
        need = search.need_detail(s, mapping.needs["ME-WBCTi"][0], member)
        assert need.responses == []
        gaps = analysis.gaps(s, NeedFilter(), viewer=member)
        assert len(gaps) == len(MAPPED_NEEDS)  # a draft closes no gap yet

    # Not approved: the responses stay the mapping's draft while the reports are revised.
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)
    board_meeting(iisg, instance_id, "not_adopted")
    assert _read(iisg, member) == set()

    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)
    board_meeting(iisg, instance_id, "adopted")
    assert _read(iisg, member) == delivered
    with iisg.db.session() as s:
        states = s.scalars(select(Response.state).where(Response.source_instance_id == instance_id))
        assert set(states) == {"approved"}
        assert analysis.gaps(s, NeedFilter(), viewer=member) == []
    assert iisg.data(instance_id)["uploaded_reports"]["responses_approved"] == len(delivered)


def test_the_secretariats_draft_report_of_the_year_holds_the_delivered_responses(
    mapping: Mapping,
) -> None:
    """Response mapping methodology 2022, I.2: "The first draft of the response mapping document
    is prepared by the IISG Secretariat based on the information provided by WB Partners", with
    the Support Group's project support. The draft .docx of the mapping's year, sent to the
    Board, holds the responses delivered in this mapping, though they are still its draft."""
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    develop_to_final_draft(mapping, instance_id)
    iisg.complete(iisg.secretariat, "prepare_final_draft", instance_id, FINAL_DRAFT)

    with iisg.db.session() as s:
        matter = s.scalars(
            select(Document).where(
                Document.instance_id == instance_id,
                Document.filename == "iisg-response-mapping-WBCTi-2026-draft.docx",
            )
        ).one()
        text = "\n".join(
            p.text for p in DocxDocument(str(file_of(matter, documents_directory()))).paragraphs
        )
    for need_id in mapping.needs["AL-WBCTi"]:
        assert f"Albania: Response of AL to need {need_id}. (past_year, ongoing)" in text
    assert "EU-funded project on P/CVE coordination. (past_year, completed; funding: IPA III)" in (
        text
    )
    assert "Serbia" not in text  # Serbia's responses are in the WBCSCi draft


def support_of(instance_id: int, iisg: Iisg) -> list[tuple[str | None, str | None, str]]:
    """The Support Group's project-support tasks: (organisation, pillar, status)."""
    with iisg.db.session() as s:
        rows = s.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "add_project_support")
            .order_by(HumanTask.organisation, HumanTask.pillar)
        ).all()
        return [(t.organisation, t.pillar, t.status) for t in rows]


def test_every_support_group_member_organisation_adds_its_own_project_support_by_the_deadline(
    mapping: Mapping, make_person: Callable[..., Participant]
) -> None:
    """Response mapping methodology 2022, I.2 (development phase): "Additional information
    will be sent to the IISG Secretariat by the other members of the IISG Support Group
    regarding the project/s support given to WB Partners". Each member organisation with a
    focal point in a pillar's Support Group is asked on its own, in parallel, by the deadline
    of the agreed calendar (a WB partner, which delivers its own information, is not asked
    again); one that is late is followed up by the Secretariat and is still heard, and the
    first draft goes to consultation only once every organisation has answered."""
    iisg = mapping.iisg
    germany = make_person("sg-de-wbcti", Grant("support_group", "DE", "WBCTi"))
    make_person("sg-al-wbcti", Grant("support_group", "AL", "WBCTi"))  # a WB partner
    deadline = iisg.clock.now() + timedelta(days=14)
    instance_id = open_mapping(iisg, input_deadline=deadline.isoformat())
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)

    assert support_of(instance_id, iisg) == [
        ("DE", "WBCTi", "open"),
        ("EC", "WBBSi", "open"),
        ("EC", "WBCSCi", "open"),
        ("EC", "WBCTi", "open"),
    ]
    ec_wbcti = iisg.task(mapping.support_group["WBCTi"], "add_project_support", instance_id)
    assert (ec_wbcti.organisation, ec_wbcti.due_at) == ("EC", deadline)
    assert [t.organisation for t in iisg.tasks_of(germany, instance_id)] == ["DE"]

    iisg.complete(iisg.secretariat, "prepare_first_draft", instance_id, {"first_draft": "Draft."})
    for person in mapping.support_group.values():
        iisg.complete(person, "add_project_support", instance_id, {})
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == []

    iisg.clock.move(days=14, seconds=1)
    assert iisg.scheduler_pass().fired_count == 1  # only Germany's task is still open
    follow_up = iisg.task(iisg.secretariat, "follow_up_late_support", instance_id)
    assert follow_up.about == "DE, WBCTi"
    iisg.complete(
        iisg.secretariat, "follow_up_late_support", instance_id, {"follow_up": "Phoned them."}
    )
    iisg.complete(
        germany,
        "add_project_support",
        instance_id,
        {
            "support": [
                {
                    "need_id": mapping.needs["AL-WBCTi"][0],
                    "project": "Bilateral project on the law on violent extremism.",
                    "period": "past_year",
                    "status": "ongoing",
                    "funding": "German Federal Foreign Office",
                }
            ]
        },
    )
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "consult_on_first_draft"
    ]
    with iisg.db.session() as s:
        given = s.scalars(select(Response).where(Response.provider == "DE")).all()
        assert [(r.need_id, r.provider_kind) for r in given] == [
            (mapping.needs["AL-WBCTi"][0], "project_support")
        ]


def test_a_late_organisations_follow_up_disappears_when_its_support_arrives(
    mapping: Mapping,
) -> None:
    """Response mapping methodology 2022, I.2: the Support Group's information is still
    welcome after the deadline; once it arrives, the Secretariat's follow-up is withdrawn."""
    iisg = mapping.iisg
    deadline = iisg.clock.now() + timedelta(days=14)
    instance_id = open_mapping(iisg, input_deadline=deadline.isoformat())
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)
    iisg.clock.move(days=14, seconds=1)
    assert iisg.scheduler_pass().fired_count == 3  # the three pillars' Support Group tasks
    assert iisg.task_statuses(instance_id, "follow_up_late_support") == ["open"] * 3
    iisg.complete(mapping.support_group["WBBSi"], "add_project_support", instance_id, {})
    assert iisg.task_statuses(instance_id, "follow_up_late_support") == [
        "open",
        "open",
        "withdrawn",
    ]
