"""An applicant follows their membership application: at each stage its state in words, who
acts next and by when, and the outcome once the Board has decided."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.instances.assignment import Grant, Participant
from tests.workflows.board.test_membership import (
    ASSESSMENT,
    application,
    apply_and_express_interest,
    decide_at_meeting,
    expression_of_interest,
    two_on_a_list,
)
from tests.workflows.conftest import Iisg
from workflows.board.applications import Application, has_applications, my_applications
from workflows.withdrawal.withdraw import withdraw_procedure

MakePerson = Callable[..., Participant]


def applications_of(iisg: Iisg, person: Participant) -> list[Application]:
    with iisg.db.session() as s:
        return my_applications(s, person.username)


def only_application(iisg: Iisg, person: Participant) -> Application:
    found = applications_of(iisg, person)
    assert len(found) == 1, found
    return found[0]


def standing(iisg: Iisg, person: Participant) -> tuple[str, str | None, bool]:
    """The application's state, who acts next, and whether the next step is the person's own."""
    shown = only_application(iisg, person)
    if shown.next_step is None:
        return shown.state, None, False
    return shown.state, shown.next_step.who, shown.next_step.task_id is not None


def test_an_invited_application_at_each_stage_says_where_it_stands_and_who_acts_next(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-interpol", Grant("applicant"))
    instance_id = iisg.start(
        "membership",
        application("INTERPOL", "INTERPOL", "applicant-interpol", how_it_began="invitation"),
    )
    # Before the invitation the applicant has not been asked anything yet.
    assert applications_of(iisg, applicant) == []
    iisg.complete(
        iisg.secretariat,
        "send_invitation",
        instance_id,
        {"invitation_sent_on": "2026-11-23", "invitation_sent_to": "Office of the SG"},
    )
    assert standing(iisg, applicant) == ("Waiting for your expression of interest", "You", True)
    shown = only_application(iisg, applicant)
    assert (shown.instance_id, shown.organisation, shown.outcome) == (instance_id, "INTERPOL", None)

    iisg.complete(
        applicant,
        "submit_expression_of_interest",
        instance_id,
        expression_of_interest("INTERPOL"),
    )
    assert standing(iisg, applicant) == (
        "Expression of interest received",
        "The IISG Secretariat",
        False,
    )
    assert "against the criteria for membership" in str(only_application(iisg, applicant).next_step)

    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    assert standing(iisg, applicant) == (
        "Assessed, going to the IISG Board",
        "The IISG Secretariat",
        False,
    )

    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    assert standing(iisg, applicant) == ("Before the IISG Board", "The IISG Board", False)
    # The silent procedure's deadline is when the Board will have decided.
    before_the_board = only_application(iisg, applicant).next_step
    assert before_the_board is not None
    assert before_the_board.due_at == iisg.decision(instance_id).deadline

    for seat in iisg.board:
        iisg.answer(seat, instance_id, "no_objection")
    confirmed = only_application(iisg, applicant)
    assert (confirmed.state, confirmed.outcome) == (
        "Confirmed: an IISG member",
        "The IISG Board confirmed your membership: you are an IISG member.",
    )
    assert standing(iisg, applicant)[1] == "The IISG Secretariat"

    iisg.complete(
        iisg.secretariat,
        "request_focal_points",
        instance_id,
        {"focal_point_request_sent_on": "2026-11-24"},
    )
    assert standing(iisg, applicant) == ("Confirmed: an IISG member", "You", True)
    iisg.complete(
        applicant,
        "nominate_focal_points",
        instance_id,
        {
            "official_name": "Maria Rossi",
            "official_position": "Head of External Relations",
            "official_email": "maria@example.org",
        },
    )
    ended = only_application(iisg, applicant)
    assert (ended.state, ended.next_step) == ("Decided", None)
    assert ended.outcome == "The IISG Board confirmed your membership: you are an IISG member."
    assert ended.ended_at is not None


def test_not_confirmed_the_applicant_reads_the_outcome_and_its_reasons(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    decide_at_meeting(iisg, instance_id, "not_adopted", "No regional work has been shown.")
    assert standing(iisg, applicant) == (
        "Not confirmed by the IISG Board with the others on its list",
        "The IISG Secretariat",
        False,
    )

    iisg.complete(iisg.secretariat, "decide_after_the_board", instance_id, {"next_step": "end"})
    assert standing(iisg, applicant) == ("Not confirmed by the IISG Board", "You", True)
    assert only_application(iisg, applicant).outcome == (
        "The IISG Board did not confirm your membership. Its reasons: Conclusions of the Board "
        "meeting: No regional work has been shown."
    )


def test_an_application_waiting_on_a_list_is_due_when_the_list_is(
    iisg: Iisg, make_person: MakePerson
) -> None:
    a, _b, second = two_on_a_list(iisg, make_person)
    assert standing(iisg, second) == ("On a list for the IISG Board", "The IISG Board", False)

    iisg.complete(iisg.secretariat, "choose_method", a, {"method": "silent_procedure"})
    waiting = only_application(iisg, second).next_step
    assert waiting is not None and waiting.due_at == iisg.decision(a).deadline


def test_a_withdrawn_application_says_who_withdrew_it_and_why(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.db.run(
        lambda s: withdraw_procedure(
            s,
            iisg.secretariat,
            instance_id,
            "The partner asked to withdraw its application.",
            iisg.clock.now() + timedelta(hours=1),
        )
    )
    shown = only_application(iisg, applicant)
    assert (shown.state, shown.next_step) == ("Withdrawn", None)
    assert shown.outcome == (
        "Withdrawn by secretariat: The partner asked to withdraw its application."
    )


def test_each_applicant_sees_only_their_own_applications_newest_first(
    iisg: Iisg, make_person: MakePerson
) -> None:
    first = make_person("applicant-a", Grant("applicant"))
    other = make_person("applicant-b", Grant("applicant"))
    older = apply_and_express_interest(iisg, first, "ORGA", "Organisation A")
    iisg.clock.move(hours=1)
    newer = iisg.start("membership", application("ORGC", "Organisation C", "applicant-a"))

    assert [a.instance_id for a in applications_of(iisg, first)] == [newer, older]
    assert applications_of(iisg, other) == []
    with iisg.db.session() as s:
        assert has_applications(s, "applicant-a")
        assert not has_applications(s, "applicant-b")
        assert not has_applications(s, iisg.secretariat.username)
