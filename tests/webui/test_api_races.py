"""Two secretaries through the API at the same moment, over a real socket: both answer the
same review (one is answered 200, the other 409 saying who answered it), and both claim it
(one gets it, the other is told who has it and cannot answer it while it is claimed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from engine.audit import verify
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, HumanTask
from tests.conftest import Clock, Database
from tests.webui.conftest import People, Reply, post, task_of
from tests.webui.test_api import token_for

ROUNDS = 10
PROBLEM = "application/problem+json"
ANSWERS = {
    "sec": {"approved": True, "comment": "Ready for the Board (sec)."},
    "sec2": {"approved": False, "comment": "Needs another reading (sec2)."},
}


def at_once(*requests: Callable[[], Reply]) -> list[Reply]:
    """Send the requests from threads released together; the replies in the same order."""
    barrier = threading.Barrier(len(requests))
    replies: list[Reply | None] = [None] * len(requests)

    def send(index: int) -> None:
        barrier.wait()
        replies[index] = requests[index]()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(reply is not None for reply in replies), "a request never came back"
    return [reply for reply in replies if reply is not None]


def each_at_once(
    url: str, tokens: dict[str, str], body: Callable[[str], dict[str, Any]]
) -> dict[str, Reply]:
    """Each person posts their body to `url` at the same moment; their replies by name."""
    people = list(tokens)

    def request_of(name: str) -> Callable[[], Reply]:
        return lambda: post(url, tokens[name], body(name))

    return dict(zip(people, at_once(*(request_of(name) for name in people)), strict=True))


@pytest.fixture
def tokens(
    db: Database, clock: Clock, people: People, make_person: Callable[..., Participant]
) -> dict[str, str]:
    """API tokens of two members of the Secretariat, who are both offered every review."""
    make_person("sec2", Grant("secretariat"))
    return {name: token_for(db, clock, name) for name in ("sec", "sec2")}


def test_two_secretaries_answer_the_same_review_through_the_api_the_later_gets_409_saying_who(
    db: Database,
    start_lane_task: Callable[..., int],
    tokens: dict[str, str],
    live_server: str,
) -> None:
    for _round in range(ROUNDS):
        review = task_of(db, start_lane_task("AL"), "review")
        url = f"{live_server}/tasks/{review.id}/complete"

        replies = each_at_once(url, tokens, lambda name: {"data": ANSWERS[name]})

        assert sorted(reply.status for reply in replies.values()) == [200, 409], replies
        winner = next(name for name, reply in replies.items() if reply.status == 200)
        loser = next(name for name, reply in replies.items() if reply.status == 409)
        refused = replies[loser]
        assert refused.media_type == PROBLEM
        assert refused.body["title"] == "Already done"
        assert f"'Review the proposal' was already completed by {winner}" in refused.body["detail"]
        assert replies[winner].body["status"] == "completed"
        stored = task_of_any_status(db, review.id)
        assert (stored["completed_by"], stored["submitted"]) == (winner, ANSWERS[winner])
        assert events_of(db, review.task_guid) == [
            ("task.completed", winner),
            ("task.refused", loser),
        ]

    with db.session() as session:
        assert verify(session).intact


def test_two_secretaries_claim_the_same_review_through_the_api_the_later_is_told_who_has_it(
    db: Database,
    start_lane_task: Callable[..., int],
    tokens: dict[str, str],
    live_server: str,
) -> None:
    for _round in range(ROUNDS):
        review = task_of(db, start_lane_task("AL"), "review")
        url = f"{live_server}/tasks/{review.id}"

        replies = each_at_once(f"{url}/claim", tokens, lambda _name: {})

        assert sorted(reply.status for reply in replies.values()) == [200, 409], replies
        holder = next(name for name, reply in replies.items() if reply.status == 200)
        other = next(name for name, reply in replies.items() if reply.status == 409)
        assert replies[holder].body["claimed_by"] == holder
        told = replies[other]
        assert (told.media_type, told.body["title"]) == (PROBLEM, "Claimed by someone else")
        assert f"'Review the proposal' has been claimed by {holder}" in told.body["detail"]
        assert task_of(db, review.instance_id, "review").claimed_by == holder

        too_late = post(f"{url}/complete", tokens[other], {"data": ANSWERS[other]})
        assert (too_late.status, too_late.body["title"]) == (409, "Claimed by someone else")
        assert task_of(db, review.instance_id, "review").claimed_by == holder
        answered = post(f"{url}/complete", tokens[holder], {"data": ANSWERS[holder]})
        assert (answered.status, answered.body["status"]) == (200, "completed")

    with db.session() as session:
        assert verify(session).intact
        claims = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.kind == "task.claimed")
        ).all()
    assert len(claims) == ROUNDS


def task_of_any_status(db: Database, task_id: int) -> dict[str, Any]:
    """Who completed a task and what they submitted, as stored."""
    with db.session() as session:
        task = session.get_one(HumanTask, task_id)
        return {"completed_by": task.completed_by, "submitted": task.submitted}


def events_of(db: Database, task_guid: str) -> list[tuple[str, str]]:
    """The task's completions and refusals on the audit trail, in order."""
    with db.session() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind.in_(["task.completed", "task.refused"]))
            .order_by(AuditEvent.seq)
        ).all()
        return [(e.kind, e.actor) for e in events if e.payload.get("task_guid") == task_guid]
