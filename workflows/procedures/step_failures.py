"""A step of a diagram that failed (a bug of the methodology) is reported to the Secretariat,
who keep the methodology: on the audit trail and by mail, whoever met it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from engine import audit
from engine.errors import StepFailed
from engine.instances.unit_of_work import run_in_transaction
from models import ProcessInstance
from workflows.mail.compose import enqueue, page_link, when
from workflows.mail.recipients import secretariat

log = logging.getLogger("iisg.step_failures")


def report_step_failure(
    factory: sessionmaker[Session], failure: StepFailed, *, now: datetime
) -> None:
    """Tell the Secretariat of `failure` in a unit of work of its own (the failed one rolled
    back). Telling never fails the request that met it: a failure to tell is logged."""
    try:
        run_in_transaction(factory, lambda session: _report(session, failure, now))
    except Exception:
        log.exception("the Secretariat could not be told that a step failed: %s", failure)


def _report(session: Session, failure: StepFailed, now: datetime) -> None:
    # A procedure that failed while starting was never stored: it is named, not linked.
    instance = session.get(ProcessInstance, failure.instance_id) if failure.instance_id else None
    instance_id = instance.id if instance is not None else None
    step = failure.step or failure.what
    audit.record(
        session,
        kind="step.failed",
        actor=failure.actor,
        now=now,
        instance_id=instance_id,
        payload={
            "step": step,
            "reason": failure.failure,
            "during": failure.what,
            "process": failure.process,
        },
    )
    procedure = instance.title if instance is not None else failure.process or "a procedure"
    lines = [
        f"A step of a diagram failed in IISG Procedures: '{step}' in {procedure}.",
        "",
        f"What failed: {failure.what}: {failure.failure}.",
        f"Who met it: {failure.actor}, on {when(now)}.",
        "Nothing of that step was saved; the person was told that you have been told.",
        "The server's log has the full detail (search for the step's name).",
    ]
    if instance_id is not None:
        lines += ["", f"The procedure: {page_link(f'/instances/{instance_id}')}"]
    for person in secretariat(session):
        enqueue(
            session,
            person,
            subject=f"A step failed: {step}",
            body="\n".join(lines) + "\n",
            kind="step_failed",
            now=now,
            instance_id=instance_id,
        )
