"""The WB partners agree the calendar and the structure of the report themselves (response
mapping methodology 2022, section II: preparatory phase, step 1, and the development phase's
meeting on the structure; PROCEDURES.md section 3, phase 1 step 1 and phase 2 step 1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid
from models import HumanTask
from tests.workflows.conftest import Iisg
from tests.workflows.mappings.test_response_mapping import Mapping, mapping, partners_answer
from workflows.matter import PartnerAnswer, task_matter
from workflows.people.roles import WB_PARTNERS

__all__ = ["mapping"]

CALENDAR = {"calendar": "Input in four weeks; Board in ten."}
STRUCTURE = {
    "legal_framework": "Laws and their implementation.",
    "institutional_setup": "Bodies and enforcement.",
    "capacity_building": "Training and equipment.",
    "coordination_cooperation": "National and regional coordination.",
}
# Started on Monday 23 November 2026, 09:00 UTC: five working days on is Monday 30 November.
AGREEMENT_DEADLINE = datetime.fromisoformat("2026-11-30T09:00:00+00:00")


def draft_the_calendar(iisg: Iisg) -> int:
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    iisg.complete(iisg.secretariat, "prepare_draft_calendar", instance_id, CALENDAR)
    return instance_id


def tasks_named(iisg: Iisg, instance_id: int, bpmn_id: str) -> list[HumanTask]:
    with iisg.db.session() as s:
        return list(
            s.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id)
                .order_by(HumanTask.organisation)
            )
        )


def shown_to_secretariat(iisg: Iisg, instance_id: int, bpmn_id: str) -> list[PartnerAnswer]:
    task = iisg.task(iisg.secretariat, bpmn_id, instance_id)
    with iisg.db.session() as s:
        matter = task_matter(s, task)
    assert matter is not None
    return matter.partner_answers


def test_each_wb_partner_gets_its_own_task_to_agree_the_draft_calendar(mapping: Mapping) -> None:
    """Preparatory phase, step 1: the Secretariat "prepares draft calendar for the response
    mapping process, consults and agrees with WB partners": every partner answers itself."""
    iisg = mapping.iisg
    instance_id = draft_the_calendar(iisg)

    tasks = tasks_named(iisg, instance_id, "agree_calendar")
    assert sorted(str(t.organisation) for t in tasks) == sorted(p.code for p in WB_PARTNERS)
    assert {(t.role, t.pillar, t.due_at) for t in tasks} == {
        ("focal_point", None, AGREEMENT_DEADLINE)
    }
    # Each partner's focal point sees its own partner's task only, in any of its pillars.
    assert [t.organisation for t in iisg.tasks_of(mapping.fp("AL", "WBBSi"), instance_id)] == ["AL"]
    # The Secretariat waits for the partners: its step is not open yet.
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []


def test_the_secretariat_goes_on_when_every_partner_has_answered_and_reads_the_answers(
    mapping: Mapping,
) -> None:
    """Preparatory phase, step 1: "consults and agrees with WB partners". The Secretariat's
    step opens once all six have answered, and shows each answer with its comment."""
    iisg = mapping.iisg
    instance_id = draft_the_calendar(iisg)
    comment = {"agreement_answer": "comment", "agreement_comment": "Too close to the holidays."}
    partners_answer(iisg, instance_id, "agree_calendar", {"RS": comment})

    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "agree_calendar_with_wb_partners"
    ]
    answers = shown_to_secretariat(iisg, instance_id, "agree_calendar_with_wb_partners")
    assert sorted(answers, key=lambda a: a.partner_name) == sorted(
        [
            PartnerAnswer(p.display_name, "agree", "")
            if p.code != "RS"
            else PartnerAnswer(p.display_name, "comment", "Too close to the holidays.")
            for p in WB_PARTNERS
        ],
        key=lambda a: a.partner_name,
    )


def test_a_comment_must_say_what_the_partner_would_change(mapping: Mapping) -> None:
    """A partner answers "agree" or "comment"; a comment without its words is refused."""
    iisg = mapping.iisg
    instance_id = draft_the_calendar(iisg)
    with pytest.raises(FormInvalid) as refused:
        iisg.complete(
            mapping.fp("ME", "WBCTi"),
            "agree_calendar",
            instance_id,
            {"agreement_answer": "comment"},
        )
    assert "agreement_comment" in refused.value.errors
    assert [t.status for t in tasks_named(iisg, instance_id, "agree_calendar")] == ["open"] * 6


def test_at_the_agreement_deadline_the_silent_partners_are_recorded_as_not_answered(
    mapping: Mapping,
) -> None:
    """Preparatory phase, step 1: the calendar is agreed with the partners that answer by
    the agreement deadline (agreement_working_days, five by default); the others are
    recorded as not answered and their tasks close, and the Secretariat goes on."""
    iisg = mapping.iisg
    instance_id = draft_the_calendar(iisg)
    for code in ("AL", "XK"):
        iisg.complete(
            mapping.fp(code, "WBCTi"), "agree_calendar", instance_id, {"agreement_answer": "agree"}
        )

    iisg.clock.move(days=6, hours=23)  # Sunday: not yet
    assert iisg.scheduler_pass().fired_count == 0
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []

    iisg.clock.move(hours=1, seconds=1)
    assert iisg.scheduler_pass().fired_count == 4
    statuses = {t.organisation: t.status for t in tasks_named(iisg, instance_id, "agree_calendar")}
    assert statuses["AL"] == statuses["XK"] == "completed"
    assert "open" not in statuses.values()
    answers = {
        a.partner_name: a.answer
        for a in shown_to_secretariat(iisg, instance_id, "agree_calendar_with_wb_partners")
    }
    names = {p.code: p.display_name for p in WB_PARTNERS}
    assert answers == {
        name: "agree" if code in ("AL", "XK") else "not_answered" for code, name in names.items()
    }


def test_each_wb_partner_agrees_the_proposed_structure_before_the_meeting(
    mapping: Mapping,
) -> None:
    """Development phase: "The IISG Secretariat convokes meeting of the WB partners to
    consult and agree on the proposed structure of the report developed by the Secretariat":
    each partner sees the structure along the four sub-pillars and answers; the meeting's
    step shows the answers."""
    iisg = mapping.iisg
    instance_id = draft_the_calendar(iisg)
    partners_answer(iisg, instance_id, "agree_calendar")
    iisg.complete(
        iisg.secretariat,
        "agree_calendar_with_wb_partners",
        instance_id,
        {"calendar_agreement": "agreed"},
    )
    iisg.complete(iisg.secretariat, "analyse_latest_needs", instance_id, {"needs_analysis": "-"})
    iisg.complete(
        iisg.secretariat, "review_database_developments", instance_id, {"database_review": "-"}
    )
    iisg.complete(iisg.secretariat, "propose_report_structure", instance_id, STRUCTURE)

    task = iisg.task(mapping.fp("BA", "WBCSCi"), "agree_structure", instance_id)
    assert task.due_at == iisg.clock.now() + timedelta(days=7)
    with iisg.db.session() as s:
        matter = task_matter(s, task)
    assert matter is not None and matter.kind == "structure"
    assert matter.answers[0].submitted == STRUCTURE
    # The partner starts from a clean form: the calendar's answer is not carried over.
    assert "agreement_answer" not in mapping.request_of(
        mapping.fp("BA", "WBCSCi"), instance_id, "agree_structure"
    )

    partners_answer(
        iisg,
        instance_id,
        "agree_structure",
        {"MK": {"agreement_answer": "comment", "agreement_comment": "Add the 2025 strategy."}},
    )
    answers = shown_to_secretariat(iisg, instance_id, "convoke_meeting_of_wb_partners")
    assert [a for a in answers if a.answer != "agree"] == [
        PartnerAnswer("North Macedonia", "comment", "Add the 2025 strategy.")
    ]
