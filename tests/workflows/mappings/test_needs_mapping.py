"""The biennial needs mapping (PROCEDURES.md, section 4; `003_*`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, NotAllowed, Refused
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task
from engine.scheduler.passes import run_pass
from models import HumanTask, Need, OutboxMessage, ProcessInstance, Report, User
from tests.workflows.conftest import Iisg
from workflows.demo import load_demo
from workflows.jobs.reminders import reminders_job
from workflows.mappings.needs_mapping import start_demo_needs_mapping
from workflows.needs_database import changes
from workflows.needs_database import reports as db_reports
from workflows.people.roles import PILLARS, WB_PARTNERS
from workflows.refusals import RequestRefused
from workflows.settings import ProcedureSettings, ReminderSettings

DEADLINE = datetime(2026, 12, 18, 16, 0, tzinfo=UTC)
REMINDER_SETTINGS = ProcedureSettings(reminders=ReminderSettings(working_days_before=(3, 1)))
KINDS = ("legislative", "institutional", "operational")
PERSPECTIVES = ("prevention", "response")
SUB_PILLARS = (
    "legal_framework",
    "institutional_setup",
    "capacity_building",
    "coordination_cooperation",
)


@dataclass
class NeedsMapping:
    """The needs mapping's people around the IISG fixture."""

    iisg: Iisg
    focal_points: dict[tuple[str, str], Participant]
    support_group: dict[str, Participant]

    def open(self, deadline: datetime | None = DEADLINE, year: int | None = 2027) -> int:
        return self.iisg.start(
            "needs_mapping",
            {
                "mapping_year": year,
                "input_deadline": deadline.isoformat() if deadline else None,
                "calendar_notes": "Consultation in February, Board meeting in March.",
            },
        )

    def deliver(self, instance_id: int, partner: str, pillar: str) -> None:
        self.iisg.complete(
            self.focal_points[(partner, pillar)],
            "identify_needs",
            instance_id,
            {"needs": needs_of(partner, pillar), "remarks": None},
        )

    def contribute(self, instance_id: int, pillar: str) -> None:
        additional = (
            [
                {
                    "partner": "XK",
                    "kind": "institutional",
                    "perspective": "prevention",
                    "sub_pillar": "coordination_cooperation",
                    "description": "A referral mechanism for persons at risk of radicalisation.",
                }
            ]
            if pillar == "WBCTi"
            else None
        )
        self.iisg.complete(
            self.support_group[pillar],
            "contribute_support_group",
            instance_id,
            {
                "contribution": f"The Support Group's view of {pillar}.",
                "additional_needs": additional,
            },
        )

    def all_inputs(self, instance_id: int, *, missing: Collection[tuple[str, str]] = ()) -> None:
        for partner in WB_PARTNERS:
            for pillar in PILLARS:
                if (partner.code, pillar) not in missing:
                    self.deliver(instance_id, partner.code, pillar)
        for pillar in PILLARS:
            self.contribute(instance_id, pillar)

    def compile(self, instance_id: int, edition: str = "first draft") -> None:
        self.iisg.complete(
            self.iisg.secretariat,
            "compile_needs_report",
            instance_id,
            {
                **{f"summary_{p.lower()}": f"{p} needs, {edition}." for p in PILLARS},
                **{f"report_{p.lower()}": f"The {p} needs report, {edition}." for p in PILLARS},
            },
        )

    def consult(self, instance_id: int, outcome: str = "validated") -> None:
        self.iisg.complete(
            self.iisg.secretariat,
            "record_consultation",
            instance_id,
            {
                "consultation_outcome": outcome,
                "consultation_notes": "Regional meeting with the partners and the Support Group.",
            },
        )

    def board_decides(self, instance_id: int, outcome: str) -> None:
        secretariat = self.iisg.secretariat
        self.iisg.complete(secretariat, "choose_method", instance_id, {"method": "meeting"})
        self.iisg.complete(
            secretariat,
            "record_meeting_outcome",
            instance_id,
            {"outcome": outcome, "meeting_date": "2027-03-10", "minutes": "Discussed."},
        )

    def open_task_ids(self, person: Participant, instance_id: int) -> list[str]:
        return [t.bpmn_id for t in self.iisg.tasks_of(person, instance_id)]

    def needs(self) -> list[Need]:
        with self.iisg.db.session() as s:
            return list(s.scalars(select(Need).order_by(Need.id)))

    def reports(self) -> list[Report]:
        with self.iisg.db.session() as s:
            return list(s.scalars(select(Report).order_by(Report.id)))


def needs_of(partner: str, pillar: str) -> list[dict[str, Any]]:
    """What a partner delivers for a pillar: one need, two for Albania in WBCTi."""
    index = [p.code for p in WB_PARTNERS].index(partner) + list(PILLARS).index(pillar)
    needs: list[dict[str, Any]] = [
        {
            "kind": KINDS[index % 3],
            "perspective": PERSPECTIVES[index % 2],
            "sub_pillar": SUB_PILLARS[index % 4],
            "description": f"Need of {partner} in {pillar}.",
        }
    ]
    if (partner, pillar) == ("AL", "WBCTi"):
        needs.append(
            {
                "kind": "legislative",
                "perspective": "response",
                "sub_pillar": "legal_framework",
                "description": "Criminalise the financing of terrorism in line with the acquis.",
            }
        )
    return needs


@pytest.fixture
def mapping(iisg: Iisg, make_person: Callable[..., Participant]) -> NeedsMapping:
    focal_points = {
        (partner.code, pillar): make_person(
            f"fp-{partner.code.lower()}-{pillar.lower()}",
            Grant("focal_point", partner.code, pillar),
        )
        for partner in WB_PARTNERS
        for pillar in PILLARS
    }
    support_group = {
        pillar: make_person(f"sg-{pillar.lower()}", Grant("support_group", "EC", pillar))
        for pillar in PILLARS
    }
    return NeedsMapping(iisg, focal_points, support_group)


def test_needs_become_database_needs_only_after_board_approval(mapping: NeedsMapping) -> None:
    instance_id = mapping.open()
    mapping.all_inputs(instance_id)
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["compile_needs_report"]
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["choose_method"]
    assert mapping.needs() == [] and mapping.reports() == []

    mapping.board_decides(instance_id, "adopted")

    decision = mapping.iisg.decision(instance_id)
    assert decision.outcome == "adopted" and decision.subject == (
        "Needs mapping 2027: the needs reports per pillar"
    )
    assert "WBCSCi: WBCSCi needs, first draft." in decision.text
    needs = mapping.needs()
    assert len(needs) == len(WB_PARTNERS) * len(PILLARS) + 2
    assert {(n.source_year, n.source_instance_id, n.status) for n in needs} == {
        (2027, instance_id, "open")
    }
    got = {(n.partner, n.pillar, n.kind, n.perspective, n.sub_pillar, n.description) for n in needs}
    for partner in WB_PARTNERS:
        for pillar in PILLARS:
            for need in needs_of(partner.code, pillar):
                assert (
                    partner.code,
                    pillar,
                    need["kind"],
                    need["perspective"],
                    need["sub_pillar"],
                    need["description"],
                ) in got
    assert (
        "XK",
        "WBCTi",
        "institutional",
        "prevention",
        "coordination_cooperation",
        "A referral mechanism for persons at risk of radicalisation.",
    ) in got
    reports = mapping.reports()
    assert [(r.kind, r.pillar, r.year, r.status, r.decision_id) for r in reports] == [
        ("needs_mapping", pillar, 2027, "published", decision.id) for pillar in PILLARS
    ]
    assert [r.summary for r in reports] == [f"{p} needs, first draft." for p in PILLARS]
    assert all(r.published_at == mapping.iisg.clock.now() for r in reports)
    with mapping.iisg.db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"


def test_each_partner_sees_only_its_own_pillar_tasks(mapping: NeedsMapping) -> None:
    instance_id = mapping.open()
    for (partner, pillar), person in mapping.focal_points.items():
        tasks = mapping.iisg.tasks_of(person, instance_id)
        assert [(t.bpmn_id, t.organisation, t.pillar, t.due_at) for t in tasks] == [
            ("identify_needs", partner, pillar, DEADLINE)
        ]
    for pillar, person in mapping.support_group.items():
        tasks = mapping.iisg.tasks_of(person, instance_id)
        assert [(t.bpmn_id, t.pillar, t.due_at) for t in tasks] == [
            ("contribute_support_group", pillar, DEADLINE)
        ]
    assert mapping.iisg.tasks_of(mapping.iisg.secretariat, instance_id) == []
    assert mapping.iisg.tasks_of(mapping.iisg.board["AL"], instance_id) == []

    serbia_border = mapping.iisg.task(
        mapping.focal_points[("RS", "WBBSi")], "identify_needs", instance_id
    )
    with pytest.raises(NotAllowed):
        mapping.iisg.db.run(
            lambda s: complete_task(
                s,
                serbia_border.id,
                {"needs": needs_of("RS", "WBBSi")},
                participant=mapping.focal_points[("AL", "WBBSi")],
                now=mapping.iisg.clock.now(),
            )
        )


def test_the_calendar_defaults_to_twenty_working_days_and_this_year(mapping: NeedsMapping) -> None:
    instance_id = mapping.open(deadline=None, year=None)  # opened Monday 23 November 2026
    expected = mapping.iisg.clock.now() + timedelta(weeks=4)  # twenty working days
    tasks = mapping.iisg.tasks_of(mapping.focal_points[("ME", "WBCSCi")], instance_id)
    assert [t.due_at for t in tasks] == [expected]
    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    mapping.board_decides(instance_id, "adopted")
    assert {n.source_year for n in mapping.needs()} == {2026}


def test_a_deadline_without_offset_or_already_past_is_refused(mapping: NeedsMapping) -> None:
    with pytest.raises(FormInvalid) as no_offset:
        mapping.iisg.start("needs_mapping", {"input_deadline": "2026-12-18T17:00:00"})
    assert no_offset.value.errors == {
        "input_deadline": "must be a date and time with its offset from UTC (RFC 3339), written "
        "YYYY-MM-DDThh:mm:ss+hh:mm"
    }
    with pytest.raises(Refused) as passed:
        mapping.open(deadline=mapping.iisg.clock.now() - timedelta(days=1))
    assert passed.value.errors == {
        "input_deadline": "The deadline for the partners' and the Support Group's input must be "
        "at least 24 hours from now: after 24 November 2026, 09:00 UTC."
    }


def test_a_late_partner_is_escalated_to_the_secretariat_and_can_still_deliver(
    mapping: NeedsMapping,
) -> None:
    instance_id = mapping.open()
    late = {("RS", "WBBSi"), ("XK", "WBCTi")}
    mapping.all_inputs(instance_id, missing=late)
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == []

    mapping.iisg.clock.move(seconds=(DEADLINE - mapping.iisg.clock.now()).total_seconds() - 60)
    assert mapping.iisg.scheduler_pass().fired_count == 0
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == []

    mapping.iisg.clock.move(minutes=2)
    assert mapping.iisg.scheduler_pass().fired_count == len(late)
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == [
        "follow_up_late_input",
        "follow_up_late_input",
    ]
    # The Secretariat's inbox says which partner and pillar each follow-up is about.
    assert sorted(
        t.about or "" for t in mapping.iisg.tasks_of(mapping.iisg.secretariat, instance_id)
    ) == ["Kosovo*, WBCTi", "Serbia, WBBSi"]
    late_task = mapping.iisg.task(
        mapping.focal_points[("RS", "WBBSi")], "identify_needs", instance_id
    )
    assert late_task.due_at == DEADLINE < mapping.iisg.clock.now()

    first = mapping.iisg.tasks_of(mapping.iisg.secretariat, instance_id)[0]
    mapping.iisg.db.run(
        lambda s: complete_task(
            s,
            first.id,
            {"action_taken": "Reminder sent to the focal point.", "expected_by": "2026-12-23"},
            participant=mapping.iisg.secretariat,
            now=mapping.iisg.clock.now(),
        )
    )
    mapping.deliver(instance_id, "RS", "WBBSi")
    mapping.deliver(instance_id, "XK", "WBCTi")

    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["compile_needs_report"]
    assert mapping.iisg.task_statuses(instance_id, "follow_up_late_input") == [
        "completed",
        "withdrawn",
    ]
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    mapping.board_decides(instance_id, "adopted")
    assert {(n.partner, n.pillar) for n in mapping.needs()} >= late


def test_a_board_refusal_sends_it_back_to_compiling_and_nothing_is_transposed(
    mapping: NeedsMapping,
) -> None:
    instance_id = mapping.open()
    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    mapping.board_decides(instance_id, "not_adopted")

    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["compile_needs_report"]
    assert mapping.needs() == [] and mapping.reports() == []

    mapping.compile(instance_id, edition="revised as the Board asked")
    # Validated in consultation already: the revision goes straight back to the Board.
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["choose_method"]
    assert mapping.needs() == []
    mapping.board_decides(instance_id, "adopted")

    assert len(mapping.needs()) == len(WB_PARTNERS) * len(PILLARS) + 2
    assert [r.summary for r in mapping.reports()] == [
        f"{p} needs, revised as the Board asked." for p in PILLARS
    ]


def test_a_consultation_asking_for_changes_sends_it_back_for_compiling(
    mapping: NeedsMapping,
) -> None:
    instance_id = mapping.open()
    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id, "changes_needed")
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["compile_needs_report"]
    mapping.compile(instance_id, edition="completed after consultation")
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["record_consultation"]
    mapping.consult(instance_id)
    assert mapping.open_task_ids(mapping.iisg.secretariat, instance_id) == ["choose_method"]


def test_the_demo_shows_a_mapping_where_some_partners_have_delivered(iisg: Iisg) -> None:
    now = iisg.clock.now()
    iisg.db.run(lambda s: load_demo(s, "demo-password", now=now))
    first = iisg.db.run(lambda s: start_demo_needs_mapping(s, now=now) is not None)
    again = iisg.db.run(lambda s: start_demo_needs_mapping(s, now=now))
    assert first and again is None
    with iisg.db.session() as s:
        instance_id = s.scalars(select(ProcessInstance.id)).one()
    statuses = iisg.task_statuses(instance_id, "identify_needs")
    assert (statuses.count("completed"), statuses.count("open")) == (3, 15)


def test_a_matter_withdrawn_after_an_objection_goes_back_and_a_second_one_adopts_it(
    mapping: NeedsMapping,
) -> None:
    iisg = mapping.iisg
    instance_id = mapping.open()
    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("ME", instance_id, "objection", "The WBBSi summary omits the maritime border.")
    # The Secretariat withdraws the matter to re-draft it, rather than wait for the meeting.
    iisg.complete(
        iisg.secretariat,
        "put_on_meeting_agenda",
        instance_id,
        {"next_step": "withdraw", "withdrawal_reason": "To add the maritime border."},
    )
    assert iisg.decision(instance_id).final_outcome == "withdrawn"
    assert mapping.open_task_ids(iisg.secretariat, instance_id) == ["compile_needs_report"]
    assert mapping.needs() == []

    mapping.compile(instance_id, edition="with the maritime border")
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    for seat in iisg.board:
        iisg.answer(seat, instance_id, "no_objection")

    assert iisg.decision(instance_id).outcome == "adopted"
    assert len(mapping.needs()) == len(WB_PARTNERS) * len(PILLARS) + 2
    assert {r.summary for r in mapping.reports()} == {
        f"{p} needs, with the maritime border." for p in PILLARS
    }


def test_the_approved_needs_report_is_published_whole_on_the_public_page(
    mapping: NeedsMapping,
) -> None:
    """About the IISG (the needs mapping): "The IISG publishes biennially a needs report on its
    webpage." The Secretariat cannot compile a pillar's summary without its report; once the
    Board approves them, each pillar's report and its summary are what the public page shows."""
    iisg = mapping.iisg
    instance_id = mapping.open()
    mapping.all_inputs(instance_id)
    summaries_only = {f"summary_{p.lower()}": f"{p} needs." for p in PILLARS}
    with pytest.raises(FormInvalid) as refused:
        iisg.complete(iisg.secretariat, "compile_needs_report", instance_id, summaries_only)
    assert set(refused.value.errors) == {"report_wbcti", "report_wbcsci", "report_wbbsi"}
    assert mapping.open_task_ids(iisg.secretariat, instance_id) == ["compile_needs_report"]

    mapping.compile(instance_id)
    mapping.consult(instance_id)
    mapping.board_decides(instance_id, "adopted")

    # The Board approved the text that is published, the reports with their summaries.
    assert "Report, WBBSi:\nThe WBBSi needs report, first draft." in iisg.decision(instance_id).text
    published = iisg.db.run(db_reports.public_reports)
    assert {(p.report.pillar, p.report.summary, p.body) for p in published} == {
        (pillar, f"{pillar} needs, first draft.", f"The {pillar} needs report, first draft.")
        for pillar in PILLARS
    }


def test_a_need_names_its_sub_pillar_wherever_it_is_written(
    mapping: NeedsMapping, make_person: Callable[..., Participant]
) -> None:
    """Response mapping methodology 2022, I.2: "The draft needs mapping is produced along the
    four sub-pillars" (legal framework and implementation; institutional set-up and
    enforcement; capacity building and support; coordination and cooperation). A need without
    its sub-pillar is refused from the partner, from the Support Group and in the database."""
    iisg = mapping.iisg
    instance_id = mapping.open()
    unplaced = {"kind": "operational", "perspective": "response", "description": "Radios."}
    with pytest.raises(FormInvalid) as partner_refused:
        iisg.complete(
            mapping.focal_points[("AL", "WBBSi")],
            "identify_needs",
            instance_id,
            {"needs": [unplaced]},
        )
    assert "needs/0/sub_pillar" in partner_refused.value.errors
    with pytest.raises(FormInvalid) as support_refused:
        iisg.complete(
            mapping.support_group["WBBSi"],
            "contribute_support_group",
            instance_id,
            {"contribution": "Our view.", "additional_needs": [{**unplaced, "partner": "AL"}]},
        )
    assert "additional_needs/0/sub_pillar" in support_refused.value.errors

    mapping.all_inputs(instance_id)
    mapping.compile(instance_id)
    mapping.consult(instance_id)
    mapping.board_decides(instance_id, "adopted")
    assert all(n.sub_pillar in SUB_PILLARS for n in mapping.needs())

    # Between two mappings, in the database: added or changed, a need keeps its sub-pillar.
    focal_point = mapping.focal_points[("AL", "WBBSi")]
    with pytest.raises(RequestRefused, match="The sub-pillar is missing"):
        iisg.db.run(
            lambda s: changes.add_need(
                s,
                {**unplaced, "partner": "AL", "pillar": "WBBSi"},
                viewer=focal_point,
                now=iisg.clock.now(),
            )
        )
    need_id = next(n.id for n in mapping.needs() if (n.partner, n.pillar) == ("AL", "WBBSi"))
    with pytest.raises(RequestRefused, match="The sub-pillar is missing"):
        iisg.db.run(
            lambda s: changes.update_need(
                s, need_id, {"sub_pillar": "none"}, viewer=focal_point, now=iisg.clock.now()
            )
        )


def test_every_support_group_member_organisation_contributes_on_its_own_by_the_deadline(
    mapping: NeedsMapping, make_person: Callable[..., Participant]
) -> None:
    """Needs mapping (About IISG, `003_*`): "The needs mapping report will be prepared by the
    IISG Secretariat with contributions from the IISG Support Group". Each member organisation
    with a focal point in a pillar's Support Group contributes on its own, in parallel, by the
    deadline of the calendar (the WB partners give their needs as partners, not again here);
    a late one is followed up by the Secretariat and still heard, and the Secretariat compiles
    the report only once every organisation has contributed."""
    iisg = mapping.iisg
    austria = make_person("sg-at-wbbsi", Grant("support_group", "AT", "WBBSi"))
    make_person("sg-rs-wbbsi", Grant("support_group", "RS", "WBBSi"))  # a WB partner
    instance_id = mapping.open()
    with iisg.db.session() as s:
        asked = s.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == "contribute_support_group",
            )
        ).all()
        assert sorted((t.organisation, t.pillar, t.due_at) for t in asked) == [
            ("AT", "WBBSi", DEADLINE),
            ("EC", "WBBSi", DEADLINE),
            ("EC", "WBCSCi", DEADLINE),
            ("EC", "WBCTi", DEADLINE),
        ]
    assert [(t.organisation, t.pillar) for t in iisg.tasks_of(austria, instance_id)] == [
        ("AT", "WBBSi")
    ]
    mapping.all_inputs(instance_id)
    assert mapping.open_task_ids(iisg.secretariat, instance_id) == []

    iisg.clock.move(seconds=(DEADLINE - iisg.clock.now()).total_seconds() + 60)
    assert iisg.scheduler_pass().fired_count == 1
    follow_up = iisg.task(iisg.secretariat, "follow_up_late_contribution", instance_id)
    assert follow_up.about == "AT, WBBSi"
    iisg.complete(
        austria,
        "contribute_support_group",
        instance_id,
        {"contribution": "Austria's view of border security.", "additional_needs": None},
    )
    assert mapping.open_task_ids(iisg.secretariat, instance_id) == ["compile_needs_report"]
    assert iisg.task_statuses(instance_id, "follow_up_late_contribution") == ["withdrawn"]


def test_the_support_group_members_who_have_not_contributed_are_reminded(
    mapping: NeedsMapping, make_person: Callable[..., Participant]
) -> None:
    """Needs mapping (About IISG, `003_*`): the Support Group's contributions have the
    calendar's deadline; before it, the reminders go to each member organisation's focal
    point in the pillar that has not contributed yet, and to no one who has."""
    iisg = mapping.iisg
    make_person("sg-at-wbbsi", Grant("support_group", "AT", "WBBSi"))
    instance_id = mapping.open()
    for partner in WB_PARTNERS:
        for pillar in PILLARS:
            mapping.deliver(instance_id, partner.code, pillar)
    mapping.contribute(instance_id, "WBCTi")
    mapping.contribute(instance_id, "WBCSCi")

    # Three working days before Friday 18 December, 16:00: Tuesday 15 December, 16:00.
    iisg.clock.move(
        seconds=(datetime(2026, 12, 15, 16, tzinfo=UTC) - iisg.clock.now()).total_seconds()
    )
    result = run_pass(iisg.db.factory, jobs=[reminders_job(REMINDER_SETTINGS)])
    assert not result.errors, result.errors
    with iisg.db.session() as s:
        reminded = s.scalars(
            select(User.username)
            .join(OutboxMessage, OutboxMessage.user_id == User.id)
            .where(OutboxMessage.kind == "reminder")
        ).all()
    assert sorted(reminded) == ["sg-at-wbbsi", "sg-wbbsi"]
