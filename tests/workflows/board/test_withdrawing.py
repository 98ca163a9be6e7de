"""Withdrawing a running procedure (PROCEDURES.md, section 2): a silent procedure the Board is
answering closes as `withdrawn`; an applicant withdraws their own application; everyone whose
task is withdrawn is told, by mail that reaches a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from engine.errors import NotAllowed, ProcedureEnded, Refused
from engine.instances.assignment import Grant, Participant
from engine.instances.claims import claim_task
from models import HumanTask, ProcessInstance, Timer
from tests.workflows.board.test_membership import (
    ASSESSMENT,
    application,
    apply_and_express_interest,
    organisation,
)
from tests.workflows.conftest import Iisg
from tests.workflows.mail_server import MailServer, give_address, outbox
from workflows.mail.sender import deliver_pending
from workflows.withdrawal.withdraw import withdraw_procedure

REASON = "The proposal must be re-drafted: the annex is the wrong year's."
SEATS = ("AL", "BA", "XK", "ME", "MK", "RS", "EC")


def withdraw(iisg: Iisg, person: Participant, instance_id: int, reason: str = REASON) -> None:
    now = iisg.clock.now()
    iisg.db.run(lambda s: withdraw_procedure(s, person, instance_id, reason, now))


def launch(iisg: Iisg) -> int:
    return iisg.start(
        "silent_procedure",
        {"subject": "Work programme 2027", "proposal": "The Board adopts the work programme."},
    )


def status_of(iisg: Iisg, instance_id: int) -> str:
    with iisg.db.session() as s:
        return s.get_one(ProcessInstance, instance_id).status


def test_a_silent_procedure_withdrawn_closes_as_withdrawn_with_the_answers_given(
    iisg: Iisg,
) -> None:
    instance_id = launch(iisg)
    iisg.answer("AL", instance_id, "no_objection")
    iisg.clock.move(hours=3)

    withdraw(iisg, iisg.secretariat, instance_id)

    decision = iisg.decision(instance_id)
    assert (decision.outcome, decision.closed_at) == ("withdrawn", iisg.clock.now())
    assert (decision.withdrawal_reason, decision.recorded_by) == (REASON, "secretariat")
    # Only the answer given is on the record: no deadline passed, so no seat was silent.
    assert [(a.seat, a.answer, a.answered_by) for a in decision.answers] == [
        ("AL", "no_objection", "board-al")
    ]
    assert (
        iisg.task_statuses(instance_id, "answer_silent_procedure")
        == ["completed"] + ["withdrawn"] * 6
    )
    assert iisg.task_statuses(instance_id, "extend_deadline") == ["withdrawn"]
    assert status_of(iisg, instance_id) == "cancelled"
    with iisg.db.session() as s:
        assert s.scalars(select(Timer).where(Timer.instance_id == instance_id)).all() == []

    # The deadline passes: nothing fires, and the record stays as it was withdrawn.
    iisg.clock.move(days=20)
    assert iisg.scheduler_pass().fired_count == 0
    assert iisg.decision(instance_id).outcome == "withdrawn"


def test_only_the_secretariat_withdraws_with_a_reason_and_only_once(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    with pytest.raises(NotAllowed, match="Only the Secretariat withdraws a procedure"):
        withdraw(iisg, iisg.board["RS"], instance_id)
    with pytest.raises(Refused) as refused:
        withdraw(iisg, iisg.secretariat, instance_id, reason="  ")
    assert list(refused.value.errors) == ["reason"]
    assert status_of(iisg, instance_id) == "running"
    assert iisg.decision(instance_id).closed_at is None

    withdraw(iisg, iisg.secretariat, instance_id)
    with pytest.raises(ProcedureEnded, match="has already ended: secretariat withdrew"):
        withdraw(iisg, iisg.secretariat, instance_id, reason="Again.")


def test_a_membership_withdrawn_while_the_board_answers_cancels_the_calls_inside_it(
    iisg: Iisg, make_person: Callable[..., Participant]
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "OSCE", "OSCE")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    # membership calls board_decision, which calls silent_procedure: all in this instance.
    assert len(iisg.tasks_of(iisg.board["ME"], instance_id)) == 1

    withdraw(iisg, iisg.secretariat, instance_id)

    assert iisg.task_statuses(instance_id, "answer_silent_procedure") == ["withdrawn"] * 7
    assert iisg.decision(instance_id).outcome == "withdrawn"
    assert organisation(iisg, "OSCE").status == "withdrawn"
    assert status_of(iisg, instance_id) == "cancelled"


def test_an_applicant_withdraws_their_own_application_and_the_secretariat_is_told(
    iisg: Iisg, make_person: Callable[..., Participant]
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    other = make_person("applicant-other", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "OSCE", "OSCE")
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, instance_id)] == [
        "assess_application"
    ]

    with pytest.raises(NotAllowed):
        withdraw(iisg, other, instance_id, "Not theirs to withdraw.")
    withdraw(iisg, applicant, instance_id, "We will apply again next year.")

    assert status_of(iisg, instance_id) == "cancelled"
    assert iisg.task_statuses(instance_id, "assess_application") == ["withdrawn"]
    assert organisation(iisg, "OSCE").status == "withdrawn"
    [told] = outbox(iisg.db, kind="procedure.withdrawn")
    assert told.subject == "Withdrawn: Becoming an IISG member"
    assert "applicant-osce withdrew the procedure" in told.body
    assert "Reason: We will apply again next year." in told.body
    assert "- Assess the application against the criteria" in told.body

    # Withdrawn, the organisation may apply again.
    again = iisg.start("membership", application("OSCE", "OSCE", applicant.username))
    assert organisation(iisg, "OSCE").status == "applicant"
    assert status_of(iisg, again) == "running"


def test_the_applicant_may_not_withdraw_once_the_board_has_decided(
    iisg: Iisg, make_person: Callable[..., Participant]
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "OSCE", "OSCE")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    for seat in SEATS:
        iisg.answer(seat, instance_id, "no_objection")
    assert organisation(iisg, "OSCE").status == "member"

    with pytest.raises(NotAllowed, match="while the Board has not decided it"):
        withdraw(iisg, applicant, instance_id, "Changed our mind.")


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A running SMTP server."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


def test_those_who_held_a_withdrawn_task_get_the_reason_by_mail(
    iisg: Iisg, make_person: Callable[..., Participant], mail_server: MailServer
) -> None:
    colleague = make_person("secretariat-2", Grant("secretariat"))
    make_person("secretariat-3", Grant("secretariat"))
    for person in ("secretariat", "secretariat-2", "secretariat-3", "board-al", "board-rs"):
        give_address(iisg.db, person, f"{person}@iisg.test")
    give_address(iisg.db, "board-ba", "board-ba@iisg.test", mode="digest")
    instance_id = launch(iisg)
    iisg.answer("RS", instance_id, "no_objection")
    extension = iisg.task(colleague, "extend_deadline", instance_id)
    iisg.db.run(lambda s: claim_task(s, extension.id, participant=colleague, now=iisg.clock.now()))
    deliver_pending(iisg.db.factory, mail_server.settings(), iisg.clock.now())  # new-task mail
    mail_server.received.clear()

    iisg.clock.move(minutes=5)
    withdraw(iisg, iisg.secretariat, instance_id)
    sent = deliver_pending(iisg.db.factory, mail_server.settings(), iisg.clock.now())

    by_address = {r.to[0]: r for r in mail_server.received}
    # The seats still to answer, and the colleague who claimed the extension; not the seat
    # that had answered, not the Secretariat member who withdrew it, not the one who had not
    # claimed the extension; Bosnia and Herzegovina's member reads it in the day's digest.
    assert sorted(by_address) == ["board-al@iisg.test", "secretariat-2@iisg.test"]
    assert sent == 2
    mail = by_address["board-al@iisg.test"]
    assert mail.subject == "Withdrawn: Silent written procedure of the Board"
    assert f"Reason: {REASON}" in mail.body
    assert "Your task in it is withdrawn and takes no more answers:" in mail.body
    assert f"/instances/{instance_id}" in mail.body
    assert "- Extend the deadline" not in mail.body
    assert "Extend" in by_address["secretariat-2@iisg.test"].body
    assert [m.status for m in outbox(iisg.db, kind="procedure.withdrawn", recipient=None)] == [
        "no_address"
    ] * 4  # the seats with no address are on the Secretariat's outbox page
    assert [m.recipient for m in outbox(iisg.db, kind="procedure.withdrawn", status="digest")] == [
        "board-ba@iisg.test"
    ]
    with iisg.db.session() as s:
        assert s.get_one(HumanTask, extension.id).status == "withdrawn"


def test_a_deadline_that_has_passed_wins_over_a_withdrawal(iisg: Iisg) -> None:
    instance_id = launch(iisg)
    iisg.clock.move(days=15)  # past the deadline; the scheduler has not run since
    with pytest.raises(ProcedureEnded, match="it was completed on"):
        withdraw(iisg, iisg.secretariat, instance_id)
    iisg.scheduler_pass()
    assert iisg.decision(instance_id).outcome == "adopted"
    assert status_of(iisg, instance_id) == "completed"
