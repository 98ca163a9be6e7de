"""The audit trail is a hash chain: any change or gap names the first event that breaks it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine import audit
from engine.audit import ChainReport, verify
from engine.instances.assignment import Grant, Participant
from models import AuditChainHead, AuditEvent
from tests.conftest import Database
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


REWRITES = {"false": '"approved":false', "true": '"approved":true', "spaced": '"approved": false'}


@pytest.mark.parametrize(
    "change",
    [
        "actor = 'someone-else'",
        "kind = 'task.claimed'",
        "occurred_at = occurred_at + INTERVAL '1' SECOND",
        "instance_id = NULL",
        # The same JSON written otherwise is a change too: the hash covers the stored text.
        "payload_text = replace(payload_text, :false, :true)",
        "payload_text = replace(payload_text, :false, :spaced)",
    ],
)
def test_changing_any_column_of_an_event_breaks_the_chain_at_that_event(
    worked: Procedures, change: str
) -> None:
    seq = event_seq(worked, "task.completed")
    if not worked.db.is_postgresql and "INTERVAL" in change:
        change = "occurred_at = datetime(occurred_at, '+1 second')"
    with worked.db.engine.begin() as connection:
        changed = connection.execute(
            text(f"UPDATE audit_event SET {change} WHERE seq = :seq"),  # noqa: S608 (the test's own)
            {"seq": seq, **REWRITES},
        )
        assert changed.rowcount == 1
    with worked.db.session() as session:
        assert session.get_one(AuditEvent, seq).payload["data"]["comment"] == "Needs a budget."

    report = check(worked)

    assert (report.broken_seq, report.checked) == (seq, seq - 1)
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


def test_events_in_any_script_and_shape_are_linked_as_event_hash_computes(db: Database) -> None:
    # Whatever the script or the shape of the payload, the stored link is the hash verify
    # recomputes from the stored text, and the head ends at the last event.
    belgrade = timezone(timedelta(hours=1))
    events: list[tuple[str, str, int | None, dict[str, Any]]] = [
        ("sekretarijat", "decision.recorded", None, {"naslov": "Odluka o članstvu", "b": 1}),
        ("секретаријат", "task.completed", None, {"z": [1.5, None, True], "a": {"y": "ё", "x": 2}}),
        ("sec", "note", None, {"quote": 'He said "no" \\ then\nleft', "emoji": "\u2705"}),
        ("sec", "empty", None, {}),
    ]

    def work(session: Session) -> None:
        for actor, kind, instance_id, payload in events:
            audit.record(
                session,
                kind=kind,
                actor=actor,
                now=datetime(2026, 12, 2, 14, 5, 7, 123456, tzinfo=belgrade),
                instance_id=instance_id,
                payload=payload,
            )

    db.run(work)

    with db.session() as session:
        stored = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        head = session.get_one(AuditChainHead, 1)
        # verify recomputes every link with event_hash, in Python.
        report = verify(session)
    assert report.intact and report.checked == len(events)
    assert [e.actor for e in stored] == [actor for actor, *_ in events]
    assert (head.seq, head.last_hash) == (stored[-1].seq, stored[-1].hash)


def test_events_appended_at_once_by_many_writers_form_one_unbroken_chain(db: Database) -> None:
    writers, each = 6, 15
    failures: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(name: str) -> None:
        try:
            start.wait()
            for n in range(each):

                def append(session: Session, n: int = n) -> None:
                    audit.record(
                        session, kind="note", actor=name, now=datetime.now(UTC), payload={"n": n}
                    )

                db.run(append)
        except BaseException as err:  # reported below, in the test's own thread
            failures.append(err)

    threads = [threading.Thread(target=write, args=(f"writer-{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with db.session() as session:
        report = verify(session)
        by_writer = [
            (event.actor, event.payload["n"])
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]
    assert report.intact and report.checked == writers * each
    for i in range(writers):
        mine = [n for actor, n in by_writer if actor == f"writer-{i}"]
        assert mine == list(range(each))


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_the_engine_never_writes_a_number_json_cannot_carry(db: Database, number: float) -> None:
    def work(session: Session) -> None:
        audit.record(
            session, kind="note", actor="sec", now=datetime.now(UTC), payload={"x": number}
        )

    with pytest.raises(ValueError, match="cannot hold NaN or Infinity"):
        db.run(work)

    with db.session() as session:
        assert session.scalars(select(AuditEvent)).all() == []
