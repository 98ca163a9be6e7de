"""Becoming an IISG member (PROCEDURES.md, section 1; the 2021 methodology and its Annex)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from SpiffWorkflow.task import TaskState
from sqlalchemy import select

from engine.errors import EngineError, FormInvalid, NotAllowed
from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from engine.instances.steps import complete_task
from models import AuditEvent, FocalPoint, HumanTask, Organisation, ProcessInstance
from tests.workflows.conftest import Iisg
from workflows.board.membership_demo import DEMO_LIST_KEYS, start_demo_membership
from workflows.demo import load_demo, start_demo_procedures
from workflows.people.accounts import find_user

MakePerson = Callable[..., Participant]


def application(code: str, name: str, applicant: str, **extra: Any) -> dict[str, Any]:
    """The start form of an international partner that reached out to the Secretariat."""
    form = {
        "how_it_began": "approach",
        "organisation_name": name,
        "organisation_code": code,
        "member_group": "international_partner",
        "partner_type": "international_organisation",
        "applicant_username": applicant,
    } | extra
    return {key: value for key, value in form.items() if value is not None}


def expression_of_interest(name: str, **extra: Any) -> dict[str, Any]:
    """The Annex form, filled in and signed."""
    return {
        "country_or_organisation_name": name,
        "confirms_interest": True,
        "understands_information_and_database": True,
        "understands_no_sensitive_information": True,
        "focal_point_wbcti_name": "Ana Petrović",
        "focal_point_wbcti_position": "Counter-terrorism adviser",
        "focal_point_wbcti_email": "ana@example.org",
        "focal_point_wbbsi_name": "Jonas Weber",
        "focal_point_wbbsi_position": "Border management officer",
        "focal_point_wbbsi_email": "jonas@example.org",
        "expresses_support": True,
        "signatory_name": "Maria Rossi",
        "signature": "Maria Rossi",
        "signed_on": "2026-11-23",
    } | extra


ASSESSMENT = {
    "like_minded_partner": "meets",
    "like_minded_partner_comment": "Shares the IISG's aims in the region.",
    "regional_cooperation": "meets",
    "regional_cooperation_comment": "Funds regional projects in all six WB partners.",
    "eu_values": "meets",
    "eu_values_comment": "Supports the EU perspective of the region.",
}


def bpmn_ids(tasks: list[HumanTask]) -> list[str]:
    return [t.bpmn_id for t in tasks]


def organisation(iisg: Iisg, code: str) -> Organisation:
    with iisg.db.session() as s:
        found = s.get(Organisation, code)
        assert found is not None
        return found


def focal_points(iisg: Iisg, code: str) -> dict[str, tuple[str, str | None]]:
    with iisg.db.session() as s:
        rows = s.scalars(select(FocalPoint).where(FocalPoint.organisation == code))
        return {r.kind: (r.name, r.email) for r in rows}


def task_data(iisg: Iisg, instance_id: int, bpmn_id: str) -> dict[str, Any]:
    """The data an open task of the instance holds (what its page is about)."""
    with iisg.db.session() as s:
        tasks = load(s, instance_id).workflow.get_tasks(state=TaskState.READY, manual=True)
        return dict(next(t for t in tasks if t.task_spec.bpmn_id == bpmn_id).data)


def apply_and_express_interest(
    iisg: Iisg, applicant: Participant, code: str, name: str, **start: Any
) -> int:
    instance_id = iisg.start("membership", application(code, name, applicant.username, **start))
    iisg.complete(
        applicant, "submit_expression_of_interest", instance_id, expression_of_interest(name)
    )
    return instance_id


def decide_at_meeting(iisg: Iisg, instance_id: int, outcome: str, minutes: str) -> None:
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": outcome, "meeting_date": "2026-12-01", "minutes": minutes},
    )


def test_an_invited_partner_confirmed_by_the_board_becomes_a_member_with_its_focal_points(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-interpol", Grant("applicant"))
    other_applicant = make_person("applicant-other", Grant("applicant"))
    instance_id = iisg.start(
        "membership",
        application("INTERPOL", "INTERPOL", "applicant-interpol", how_it_began="invitation"),
    )
    assert organisation(iisg, "INTERPOL").status == "applicant"
    # The Secretariat records its official invitation before the applicant is asked.
    assert bpmn_ids(iisg.tasks_of(applicant, instance_id)) == []
    iisg.complete(
        iisg.secretariat,
        "send_invitation",
        instance_id,
        {
            "invitation_sent_on": "2026-11-23",
            "invitation_sent_to": "Office of the Secretary General",
        },
    )
    # Only the applicant named at the start is asked for the expression of interest.
    assert bpmn_ids(iisg.tasks_of(applicant, instance_id)) == ["submit_expression_of_interest"]
    assert iisg.tasks_of(other_applicant, instance_id) == []
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []
    # Another applicant cannot fill it in for them, even knowing the task.
    own_task = iisg.task(applicant, "submit_expression_of_interest", instance_id).id
    with pytest.raises(NotAllowed, match="it is for applicant-interpol"):
        iisg.db.run(
            lambda s: complete_task(
                s,
                own_task,
                expression_of_interest("INTERPOL"),
                participant=other_applicant,
                now=iisg.clock.now(),
            )
        )
    iisg.complete(
        applicant,
        "submit_expression_of_interest",
        instance_id,
        expression_of_interest("INTERPOL"),
    )
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, instance_id)) == ["assess_application"]
    assert iisg.tasks_of(applicant, instance_id) == []
    assert iisg.tasks_of(iisg.board["AL"], instance_id) == []

    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    for seat in iisg.board:
        iisg.answer(seat, instance_id, "no_objection")
    decision = iisg.decision(instance_id)
    assert decision.subject == "IISG membership of INTERPOL"
    assert "like-minded partner: meets. Shares the IISG's aims" in decision.text
    # The expression of interest is form answers, not a file: the proposal names it.
    assert "Expression of interest of INTERPOL, signed by Maria Rossi on 2026-11-23." in (
        decision.text
    )
    assert decision.documents == []

    registered = organisation(iisg, "INTERPOL")
    assert (registered.is_member, registered.status, registered.member_group) == (
        True,
        "member",
        "international_partner",
    )
    assert registered.member_since is not None
    assert focal_points(iisg, "INTERPOL") == {
        "WBCTi": ("Ana Petrović", "ana@example.org"),
        "WBBSi": ("Jonas Weber", "jonas@example.org"),
    }
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, instance_id)) == ["request_focal_points"]
    iisg.complete(
        iisg.secretariat,
        "request_focal_points",
        instance_id,
        {"focal_point_request_sent_on": "2026-11-24"},
    )
    assert bpmn_ids(iisg.tasks_of(applicant, instance_id)) == ["nominate_focal_points"]
    assert iisg.tasks_of(other_applicant, instance_id) == []
    iisg.complete(
        applicant,
        "nominate_focal_points",
        instance_id,
        {
            "official_name": "Maria Rossi",
            "official_position": "Head of External Relations",
            "official_email": "maria@example.org",
            "nominee_wbcsci_name": "Luka Horvat",
            "nominee_wbcsci_position": "Organised crime analyst",
            "nominee_wbcsci_email": "luka@example.org",
            "nominee_wbbsi_name": "Eva Novak",
            "nominee_wbbsi_position": "Border management officer",
            "nominee_wbbsi_email": "eva@example.org",
        },
    )
    assert focal_points(iisg, "INTERPOL") == {
        "official": ("Maria Rossi", "maria@example.org"),
        "WBCTi": ("Ana Petrović", "ana@example.org"),
        "WBCSCi": ("Luka Horvat", "luka@example.org"),
        "WBBSi": ("Eva Novak", "eva@example.org"),
    }
    with iisg.db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"
        user = find_user(s, "applicant-interpol")
        assert user is not None
        assert ("member", "INTERPOL") in {(g.role, g.organisation) for g in user.grants}


def test_not_confirmed_the_applicant_is_told_the_boards_reasons(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.complete(
        iisg.secretariat,
        "assess_application",
        instance_id,
        ASSESSMENT | {"regional_cooperation": "does_not_meet"},
    )
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("RS", instance_id, "objection", "No commitment to regional cooperation in the WB.")
    # The objection decides nothing yet: the application goes to the Board meeting.
    assert organisation(iisg, "ACME").status == "applicant"
    assert iisg.tasks_of(applicant, instance_id) == []
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "meeting"})
    conclusions = "No commitment to regional cooperation in the WB has been shown."
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": "not_adopted", "meeting_date": "2026-12-10", "minutes": conclusions},
    )
    # Not confirmed: the Secretariat ends the application (rather than list it again).
    iisg.complete(iisg.secretariat, "decide_after_the_board", instance_id, {"next_step": "end"})

    assert organisation(iisg, "ACME").status == "not_confirmed"
    assert organisation(iisg, "ACME").is_member is False
    assert focal_points(iisg, "ACME") == {}
    reasons = task_data(iisg, instance_id, "read_board_decision")["board_reasons"]
    assert reasons["reasons"] == f"Conclusions of the Board meeting: {conclusions}"
    assert bpmn_ids(iisg.tasks_of(applicant, instance_id)) == ["read_board_decision"]
    told = iisg.tasks_of(applicant, instance_id)[0]
    assert told.documentation.endswith(
        f"The Board's reasons: Conclusions of the Board meeting: {conclusions}"
    )
    assert iisg.tasks_of(iisg.secretariat, instance_id) == []
    iisg.complete(applicant, "read_board_decision", instance_id, {"outcome_acknowledged": True})
    with iisg.db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"
    # The partner may express interest again later.
    iisg.start("membership", application("ACME", "ACME Security Forum", "applicant-acme"))
    assert organisation(iisg, "ACME").status == "applicant"


def test_after_an_objection_the_meeting_confirms_and_the_membership_goes_on(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("ME", instance_id, "objection", "We ask to hear the applicant first.")
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, instance_id)) == ["put_on_meeting_agenda"]
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {
            "outcome": "adopted",
            "meeting_date": "2026-12-10",
            "minutes": "Having heard the applicant, the Board confirms its membership.",
        },
    )
    assert organisation(iisg, "ACME").status == "member"
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, instance_id)) == ["request_focal_points"]


def test_an_application_needs_the_applicants_login_and_only_one_may_be_open(
    iisg: Iisg, make_person: MakePerson
) -> None:
    make_person("applicant-y", Grant("applicant"))
    make_person("not-an-applicant", Grant("member", "AL"))
    with pytest.raises(EngineError, match="no active login 'nobody'"):
        iisg.start("membership", application("YORG", "Y Organisation", "nobody"))
    with pytest.raises(EngineError, match="does not hold the applicant role"):
        iisg.start("membership", application("YORG", "Y Organisation", "not-an-applicant"))
    with pytest.raises(FormInvalid, match="partner_type: this field is required"):
        iisg.start(
            "membership", application("YORG", "Y Organisation", "applicant-y", partner_type=None)
        )
    iisg.start("membership", application("YORG", "Y Organisation", "applicant-y"))
    with pytest.raises(EngineError, match="already open"):
        iisg.start("membership", application("YORG", "Y Organisation", "applicant-y"))
    with pytest.raises(EngineError, match=r"\(AL\) is already an IISG member"):
        iisg.start("membership", application("AL", "Albania", "applicant-y"))


def test_an_eu_jha_agency_joins_on_notification_without_a_board_decision(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-europol", Grant("applicant"))
    instance_id = apply_and_express_interest(
        iisg,
        applicant,
        "EUROPOL",
        "European Union Agency for Law Enforcement Cooperation",
        member_group="eu_jha_agency",
        partner_type=None,
    )
    registered = organisation(iisg, "EUROPOL")
    assert (registered.is_member, registered.status, registered.member_group) == (
        True,
        "notified",
        "eu_jha_agency",
    )
    with iisg.db.session() as s:
        assert s.scalars(
            select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id)
        ).all() == [
            "submit_expression_of_interest",
            "request_focal_points",
        ]
        notified = s.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == instance_id, AuditEvent.kind == "board.notified"
            )
        ).one()
        assert notified.payload["organisation"] == "EUROPOL"
    for seat, member in iisg.board.items():
        assert iisg.tasks_of(member, instance_id) == [], seat
    with pytest.raises(AssertionError, match="no decision recorded"):
        iisg.decision(instance_id)
    assert focal_points(iisg, "EUROPOL")["WBCTi"] == ("Ana Petrović", "ana@example.org")


def test_several_applications_go_to_the_board_on_one_list(
    iisg: Iisg, make_person: MakePerson
) -> None:
    first = make_person("applicant-a", Grant("applicant"))
    second = make_person("applicant-b", Grant("applicant"))
    alone = make_person("applicant-c", Grant("applicant"))
    a = apply_and_express_interest(iisg, first, "ORGA", "Organisation A")
    b = apply_and_express_interest(iisg, second, "ORGB", "Organisation B")
    c = apply_and_express_interest(iisg, alone, "ORGC", "Organisation C")
    spring = ASSESSMENT | {"board_list": "Board meeting, March 2027"}
    iisg.complete(iisg.secretariat, "assess_application", a, spring)
    # Same list, written a little differently: it is the same list.
    iisg.complete(
        iisg.secretariat,
        "assess_application",
        b,
        spring | {"board_list": "board meeting,  March 2027"},
    )
    iisg.complete(iisg.secretariat, "assess_application", c, ASSESSMENT)

    # The first on the list carries it to the Board; the second waits for the list's decision.
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, a)) == ["send_list_to_board"]
    assert iisg.tasks_of(iisg.secretariat, b) == []
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, c)) == ["send_list_to_board"]

    iisg.complete(iisg.secretariat, "send_list_to_board", a, {"list_cover_note": "Two partners."})
    decision_text = task_data(iisg, a, "choose_method")["board_matter"]
    assert decision_text["subject"] == (
        "IISG membership, list 'Board meeting, March 2027': Organisation A, Organisation B"
    )
    assert "1. Organisation A (ORGA)" in decision_text["proposal"]
    assert "2. Organisation B (ORGB)" in decision_text["proposal"]
    assert "Organisation C" not in decision_text["proposal"]
    assert decision_text["members"] == [b]

    # A list that has gone to the Board takes no more applications.
    late = apply_and_express_interest(
        iisg, make_person("applicant-d", Grant("applicant")), "ORGD", "Organisation D"
    )
    with pytest.raises(EngineError, match="has already gone to the Board"):
        iisg.complete(iisg.secretariat, "assess_application", late, spring)

    decide_at_meeting(iisg, a, "adopted", "Both partners confirmed by consensus.")
    assert organisation(iisg, "ORGA").status == "member"
    assert organisation(iisg, "ORGB").status == "member"
    assert organisation(iisg, "ORGC").status == "applicant"
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, a)) == ["request_focal_points"]
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, b)) == ["request_focal_points"]
    # The one decision on the list, taken once, in the leading application.
    assert iisg.decision(a).subject.startswith("IISG membership, list")
    with pytest.raises(AssertionError, match="no decision recorded"):
        iisg.decision(b)
    # Each applicant still sees only their own tasks.
    iisg.complete(
        iisg.secretariat, "request_focal_points", b, {"focal_point_request_sent_on": "2026-12-02"}
    )
    assert bpmn_ids(iisg.tasks_of(second)) == ["nominate_focal_points"]
    assert iisg.tasks_of(first) == []

    # The application on no list goes to the Board alone, and is decided on its own.
    iisg.complete(iisg.secretariat, "send_list_to_board", c, {})
    decide_at_meeting(iisg, c, "not_adopted", "The Board asks for more on its regional work.")
    iisg.complete(iisg.secretariat, "decide_after_the_board", c, {"next_step": "end"})
    assert organisation(iisg, "ORGC").status == "not_confirmed"
    assert task_data(iisg, c, "read_board_decision")["board_reasons"]["reasons"] == (
        "Conclusions of the Board meeting: The Board asks for more on its regional work."
    )
    assert bpmn_ids(iisg.tasks_of(alone)) == ["read_board_decision"]


def test_the_expression_of_interest_refuses_missing_confirmations_and_fields(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-x", Grant("applicant"))
    instance_id = iisg.start("membership", application("XORG", "X Organisation", "applicant-x"))
    incomplete = expression_of_interest(
        "X Organisation", understands_no_sensitive_information=False
    )
    for missing in ("confirms_interest", "signature", "signed_on"):
        del incomplete[missing]
    del incomplete["focal_point_wbcti_email"]  # a focal point named needs an e-mail
    with pytest.raises(FormInvalid) as refused:
        iisg.complete(applicant, "submit_expression_of_interest", instance_id, incomplete)
    assert refused.value.errors == {
        "confirms_interest": "this field is required",
        "understands_no_sensitive_information": "must be confirmed",
        "signature": "this field is required",
        "signed_on": "this field is required",
        "focal_point_wbcti_email": "this field is required",
    }
    no_focal_point = {
        k: v
        for k, v in expression_of_interest("X Organisation").items()
        if not k.startswith("focal_point_")
    }
    with pytest.raises(EngineError, match="at least one pillar"):
        iisg.complete(applicant, "submit_expression_of_interest", instance_id, no_focal_point)
    # Nothing moved: the applicant still has the form to fill in.
    assert bpmn_ids(iisg.tasks_of(applicant, instance_id)) == ["submit_expression_of_interest"]


def test_the_demo_application_awaits_the_secretariats_assessment(
    iisg: Iisg, make_person: MakePerson
) -> None:
    make_person("applicant", Grant("applicant"))
    first = iisg.db.run(lambda s: start_demo_membership(s, now=iisg.clock.now()))
    assert first is not None
    again = iisg.db.run(lambda s: start_demo_membership(s, now=iisg.clock.now()))
    assert again is None
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat)) == ["assess_application"]
    assert organisation(iisg, "OSCE").status == "applicant"


def two_on_a_list(iisg: Iisg, make_person: MakePerson) -> tuple[int, int, Participant]:
    """Organisation A leads the Board list 'Spring 2027', Organisation B waits on it; the
    list has gone to the Board. Returns both instances and B's applicant."""
    second = make_person("applicant-b", Grant("applicant"))
    a = apply_and_express_interest(
        iisg, make_person("applicant-a", Grant("applicant")), "ORGA", "Organisation A"
    )
    b = apply_and_express_interest(iisg, second, "ORGB", "Organisation B")
    spring = ASSESSMENT | {"board_list": "Spring 2027"}
    iisg.complete(iisg.secretariat, "assess_application", a, spring)
    iisg.complete(iisg.secretariat, "assess_application", b, spring)
    iisg.complete(iisg.secretariat, "send_list_to_board", a, {})
    return a, b, second


def meeting_confirms_a_but_not_b(iisg: Iisg, a: int) -> None:
    iisg.complete(iisg.secretariat, "choose_method", a, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        a,
        {
            "outcome": "adopted",
            "meeting_date": "2026-12-10",
            "minutes": "Organisation A confirmed; the Board asks Organisation B for more.",
            "not_confirmed": ["ORGB"],
        },
    )


def test_the_board_confirms_one_application_on_a_list_and_not_the_other(
    iisg: Iisg, make_person: MakePerson
) -> None:
    a, b, _ = two_on_a_list(iisg, make_person)
    matter = task_data(iisg, a, "choose_method")
    assert matter["items"] == [
        {"key": "ORGA", "title": "Organisation A"},
        {"key": "ORGB", "title": "Organisation B"},
    ]
    assert "each application on its own" in matter["proposal"]
    meeting_confirms_a_but_not_b(iisg, a)

    assert {(i.key, i.outcome) for i in iisg.decision(a).items} == {
        ("ORGA", "confirmed"),
        ("ORGB", "not_confirmed"),
    }
    assert organisation(iisg, "ORGA").status == "member"
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, a)) == ["request_focal_points"]
    # B is not confirmed with the others: the Secretariat chooses what becomes of it.
    assert organisation(iisg, "ORGB").status == "applicant"
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, b)) == ["decide_after_the_board"]


def test_an_application_not_confirmed_with_the_others_goes_on_a_new_list(
    iisg: Iisg, make_person: MakePerson
) -> None:
    a, b, _ = two_on_a_list(iisg, make_person)
    meeting_confirms_a_but_not_b(iisg, a)
    iisg.complete(
        iisg.secretariat,
        "decide_after_the_board",
        b,
        {"next_step": "new_list", "board_list": "Autumn 2027"},
    )
    # B leads the new list and goes to the Board again, alone on it.
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, b)) == ["send_list_to_board"]
    iisg.complete(iisg.secretariat, "send_list_to_board", b, {})
    assert task_data(iisg, b, "choose_method")["board_matter"]["subject"] == (
        "IISG membership, list 'Autumn 2027': Organisation B"
    )
    decide_at_meeting(iisg, b, "adopted", "Organisation B confirmed by consensus.")
    assert organisation(iisg, "ORGB").status == "member"


def test_an_application_not_confirmed_with_the_others_may_end_there(
    iisg: Iisg, make_person: MakePerson
) -> None:
    a, b, applicant_b = two_on_a_list(iisg, make_person)
    meeting_confirms_a_but_not_b(iisg, a)
    iisg.complete(iisg.secretariat, "decide_after_the_board", b, {"next_step": "end"})

    assert organisation(iisg, "ORGB").status == "not_confirmed"
    assert task_data(iisg, b, "read_board_decision")["board_reasons"]["reasons"] == (
        "Conclusions of the Board meeting: "
        "Organisation A confirmed; the Board asks Organisation B for more."
    )
    assert bpmn_ids(iisg.tasks_of(applicant_b)) == ["read_board_decision"]


def test_an_objection_naming_one_application_leaves_the_other_to_silence(
    iisg: Iisg, make_person: MakePerson
) -> None:
    a, b, _ = two_on_a_list(iisg, make_person)
    iisg.complete(iisg.secretariat, "choose_method", a, {"method": "silent_procedure"})
    with pytest.raises(FormInvalid) as refused:
        iisg.complete(
            iisg.board["RS"],
            "answer_silent_procedure",
            a,
            {"answer": "objection", "reason": "Not yet.", "concerns": ["ORGX"]},
        )
    assert refused.value.errors == {
        "concerns/0": "ORGX is not on the list for this task: give one of ORGA, ORGB"
    }
    iisg.complete(
        iisg.board["RS"],
        "answer_silent_procedure",
        a,
        {"answer": "objection", "reason": "We ask to hear B first.", "concerns": ["ORGB"]},
    )
    # The procedure goes on: silence may still confirm A.
    assert iisg.decision(a).closed_at is None
    assert bpmn_ids(iisg.tasks_of(iisg.board["AL"], a)) == ["answer_silent_procedure"]
    iisg.clock.move(days=15)
    iisg.scheduler_pass()

    silent = iisg.decision(a)
    assert (silent.outcome, silent.final_outcome) == ("silence_broken", None)
    assert {(i.key, i.outcome) for i in silent.items} == {
        ("ORGA", "confirmed"),
        ("ORGB", "silence_broken"),
    }
    # The deadline passed: the others' silence counts, for A.
    assert {a.seat: (a.answer, a.concerns) for a in silent.answers}["AL"] == ("silence", None)
    assert {a.seat: a.concerns for a in silent.answers}["RS"] == ["ORGB"]
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", a, {"next_step": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        a,
        {"outcome": "adopted", "meeting_date": "2027-01-20", "minutes": "B heard; confirmed."},
    )
    assert {(i.key, i.outcome) for i in iisg.decision(a).items} == {("ORGB", "confirmed")}
    assert organisation(iisg, "ORGA").status == "member"
    assert organisation(iisg, "ORGB").status == "member"
    assert bpmn_ids(iisg.tasks_of(iisg.secretariat, b)) == ["request_focal_points"]


def test_the_demo_list_has_one_application_confirmed_and_one_not(iisg: Iisg) -> None:
    now = iisg.clock.now()
    iisg.db.run(lambda s: load_demo(s, "demo-password", now=now))
    iisg.db.run(lambda s: start_demo_procedures(s, now=now))
    assert organisation(iisg, "IOM").status == "member"
    assert organisation(iisg, "UNODC").status == "applicant"
    with iisg.db.session() as s:
        waiting = {
            key: s.scalars(
                select(HumanTask.bpmn_id)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(ProcessInstance.business_key == key, HumanTask.status == "open")
            ).all()
            for key in DEMO_LIST_KEYS.values()
        }
    assert waiting == {
        DEMO_LIST_KEYS["IOM"]: ["request_focal_points"],
        DEMO_LIST_KEYS["UNODC"]: ["decide_after_the_board"],
    }
