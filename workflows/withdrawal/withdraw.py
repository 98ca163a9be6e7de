"""Withdrawing a running procedure: who may (the Secretariat any; an applicant their own
membership application while the Board has not decided it), and all that goes with it in
one unit of work: the engine's withdrawal, the Board's open decision closed as `withdrawn`,
the application marked withdrawn, and a mail to everyone whose task was withdrawn (and to
the Secretariat when an applicant withdraws)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from engine.errors import NotAllowed
from engine.instances.assignment import Participant
from engine.instances.steps import CANCELLABLE, cancel_instance
from models import HumanTask, ProcessInstance, User
from workflows.board.decisions import withdraw_open_decisions
from workflows.board.membership import application_of, withdraw_application
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import holders_of, secretariat
from workflows.people.accounts import find_user
from workflows.people.roles import SECRETARIAT
from workflows.refusals import NoSuchThing

WITHDRAW_REFUSAL = (
    "Only the Secretariat withdraws a procedure; an applicant may withdraw their own "
    "membership application while the Board has not decided it."
)


def may_withdraw(session: Session, participant: Participant, instance: ProcessInstance) -> bool:
    """The Secretariat withdraws any procedure; an applicant their own undecided application."""
    if participant.holds(SECRETARIAT):
        return True
    return _own_undecided_application(session, participant, instance)


def _own_undecided_application(
    session: Session, participant: Participant, instance: ProcessInstance
) -> bool:
    if not participant.holds("applicant"):
        return False
    application = application_of(session, instance)
    return (
        application is not None
        and application.applicant == participant.username
        and (application.undecided or instance.status not in CANCELLABLE)
    )


def may_withdraw_now(session: Session, participant: Participant, instance: ProcessInstance) -> bool:
    """Whether the page offers this person the withdrawal: it runs, and they may."""
    return instance.status in CANCELLABLE and may_withdraw(session, participant, instance)


def withdraw_procedure(
    session: Session, participant: Participant, instance_id: int, reason: str, now: datetime
) -> ProcessInstance:
    """Withdraw a procedure with a reason, as `participant`; NotAllowed unless they may,
    Refused (field `reason`) without a reason, ProcedureEnded once it has ended."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NoSuchThing(f"There is no procedure instance {instance_id}.")
    if not may_withdraw(session, participant, instance):
        raise NotAllowed(WITHDRAW_REFUSAL)
    application = application_of(session, instance)
    actor = participant.username
    withdrawn = cancel_instance(session, instance_id, actor=actor, reason=reason, now=now)
    reason = reason.strip()
    withdraw_open_decisions(session, instance_id, actor=actor, reason=reason, now=now)
    if application is not None:
        withdraw_application(application)
    _tell(session, instance, withdrawn, actor=participant, reason=reason, now=now)
    session.flush()
    return instance


def _tell(
    session: Session,
    instance: ProcessInstance,
    withdrawn: list[HumanTask],
    *,
    actor: Participant,
    reason: str,
    now: datetime,
) -> None:
    """One mail to each person who held a withdrawn task (whoever claimed it, or everyone it
    was offered to), and to the Secretariat when someone else withdrew the procedure."""
    tasks_of: dict[int, list[HumanTask]] = defaultdict(list)
    people: dict[int, User] = {}
    for task in withdrawn:
        for user in holders_of(session, task):
            people[user.id] = user
            tasks_of[user.id].append(task)
    if not actor.holds(SECRETARIAT):
        people.update({user.id: user for user in secretariat(session)})
    acting = find_user(session, actor.username)
    who = acting.display_name if acting is not None else actor.username
    link = page_link(f"/instances/{instance.id}")
    for user_id, user in sorted(people.items(), key=lambda pair: pair[1].username):
        if user.username == actor.username:
            continue  # they know: they did it
        held = tasks_of.get(user_id, [])
        lines = [
            f"{who} withdrew the procedure '{instance.title}' on {when(now)}.",
            "",
            f"Reason: {reason}",
            "",
        ]
        if held:
            lines.append(
                "Your task in it is withdrawn and takes no more answers:"
                if len(held) == 1
                else "Your tasks in it are withdrawn and take no more answers:"
            )
            lines += [
                f"- {task.name}" + (f" ({task.about})" if task.about else "") for task in held
            ]
            lines.append("")
        lines.append(f"The procedure: {link}")
        enqueue(
            session,
            user,
            subject=f"Withdrawn: {instance.title}",
            body="\n".join(lines) + "\n",
            kind="procedure.withdrawn",
            now=now,
            instance_id=instance.id,
        )
