"""The audit trail is a hash chain: any change or gap names the first event that breaks it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import bindparam, select, text

from engine.assignment import Grant, Participant
from engine.audit import ChainReport, verify
from models import AuditEvent
from models.base import JSONType
from tests.engine.conftest import Procedures


@pytest.fixture
def worked(procedures: Procedures, make_person: Callable[..., Participant]) -> Procedures:
    """A morning's work: diagrams deployed, a review done, a vote started."""
    secretariat = make_person("sec", Grant("secretariat"))
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    review = procedures.task(instance_id, "review")
    procedures.complete(review.id, {"approved": False, "comment": "Needs a budget."}, secretariat)
    procedures.start("mi_vote", {"seats": {"AL": "AL", "BA": "BA"}})
    return procedures


def check(procedures: Procedures) -> ChainReport:
    """Verify the whole chain."""
    with procedures.db.session() as session:
        return verify(session)


def event_seq(procedures: Procedures, kind: str) -> int:
    """The sequence number of the first event of a kind."""
    with procedures.db.session() as session:
        seq = session.scalar(
            select(AuditEvent.seq).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)
        )
    assert seq is not None
    return seq


def test_chain_is_intact_after_normal_work(worked: Procedures) -> None:
    report = check(worked)

    assert report.intact
    assert report.checked == worked.audit_count() >= 9  # six deployments, two starts, a task


def test_changing_an_events_actor_breaks_the_chain_at_that_event(worked: Procedures) -> None:
    seq = event_seq(worked, "task.completed")
    with worked.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET actor = 'someone-else' WHERE seq = :seq"), {"seq": seq}
        )

    report = check(worked)

    assert (report.broken_seq, report.checked) == (seq, seq - 1)
    assert report.reason == "its content was changed after it was written"


def test_changing_an_events_payload_breaks_the_chain_at_that_event(worked: Procedures) -> None:
    seq = event_seq(worked, "task.completed")
    with worked.db.session() as session:
        payload = session.get_one(AuditEvent, seq).payload
    payload["data"]["approved"] = True
    with worked.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET payload = :payload WHERE seq = :seq").bindparams(
                bindparam("payload", type_=JSONType)
            ),
            {"payload": payload, "seq": seq},
        )

    report = check(worked)

    assert report.broken_seq == seq
    assert report.reason == "its content was changed after it was written"


def test_deleting_an_event_in_the_middle_names_the_missing_one(worked: Procedures) -> None:
    seq = event_seq(worked, "instance.started")
    assert seq < worked.audit_count()  # it has successors
    with worked.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": seq})

    report = check(worked)

    assert (report.broken_seq, report.reason) == (seq, f"event {seq} is missing")


def test_deleting_the_last_event_is_noticed_by_the_chain_head(worked: Procedures) -> None:
    last = worked.audit_count()
    with worked.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": last})

    report = check(worked)

    assert report.broken_seq == last
    assert report.reason == f"the chain ends at event {last - 1} but {last} were written"
