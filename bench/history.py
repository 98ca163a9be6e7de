"""The inbox page and GET /api/v1/tasks for one Board member with 100, 1,000 and 10,000
finished and running instances in the database.

Ten silent procedures wait for the member's answer at every size: what the person sees stays
the same while the history grows around it. The rest are clones, made with bulk SQL, of two
instances run through the engine: one finished (all seven seats answered, the decision
adopted) and one still running that the member has already answered (six seats and the
Secretariat's optional extension still open, its deadline timer waiting), nine finished to
one running. Each clone gets its own copies of the template's task rows and timers.

Each size is a database of its own with an `iisg serve` of its own, all three running side by
side, and the requests take turns request by request (the order turning too): the machine's
speed, which changes from one second to the next, is then the same for every size. Both pages
are asked for in turn, over a logged-in browser session and a bearer token.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import String, cast, func, insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from bench.completion import answer
from bench.databases import bound, settle
from bench.procedures import (
    PASSWORD,
    Person,
    answer_tasks,
    board_member,
    start_silent_procedures,
)
from bench.report import Check, ms, percentiles
from bench.serving import Client, Server
from models import Base, HumanTask, ProcessInstance, Timer
from workflows.people.roles import BOARD_SEATS

SIZES = (100, 1_000, 10_000)
OPEN_FOR_MEMBER = 10
RUNNING_SHARE = 10  # one clone in this many is still running
MEMBER_SEAT = "AL"
# Before the measurement, enough requests that each of a server's threads has opened its
# database connection and prepared its statements.
WARM_UP = 40
REQUESTS = 100  # per page and size
MAX_GROWTH = 1.3
SETTLED = "process_instance, human_task, timer"
CLONE_KEY = "bench-clone"


class History:
    """The member, the instances they wait on, and the two templates the clones copy."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.board = {seat.code: board_member(factory, seat.code) for seat in BOARD_SEATS}
        self.member: Person = self.board[MEMBER_SEAT]
        self.waiting = start_silent_procedures(factory, OPEN_FOR_MEMBER)
        finished, running = start_silent_procedures(factory, 2)
        self._answer(finished, [s.code for s in BOARD_SEATS])
        self._answer(running, [MEMBER_SEAT])
        with factory() as session:
            status = session.get_one(ProcessInstance, finished).status
        if status != "completed":
            raise RuntimeError(f"the finished template is {status}, not completed")
        self.finished, self.running = finished, running
        self.real = OPEN_FOR_MEMBER + 2

    def _answer(self, instance_id: int, seats: list[str]) -> None:
        tasks = answer_tasks(self.factory, [instance_id])[instance_id]
        for seat in seats:
            answer(self.factory, tasks[seat], self.board[seat].participant)

    def count(self) -> int:
        """Instances in the database."""
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(ProcessInstance)) or 0

    def grow(self, size: int) -> float:
        """Clone the templates until `size` instances exist; the seconds it took."""
        started = time.perf_counter()
        have = self.count()
        missing = size - have
        if missing < 0:
            raise RuntimeError(f"asked for {size} instances, already have {have}")
        running = missing // RUNNING_SHARE
        self._clone(self.running, running)
        self._clone(self.finished, missing - running)
        settle(self.factory, SETTLED)
        if self.count() != size:
            raise RuntimeError(f"asked for {size} instances, have {self.count()}")
        return time.perf_counter() - started

    def _clone(self, template_id: int, count: int) -> None:
        if count <= 0:
            return
        tables = Base.metadata.tables
        instances = tables[ProcessInstance.__tablename__]
        tasks = tables[HumanTask.__tablename__]
        timers = tables[Timer.__tablename__]
        with self.factory() as session:
            dialect = session.get_bind().dialect.name
            before = session.scalar(select(func.max(ProcessInstance.id))) or 0
            source = (
                session.execute(select(instances).where(instances.c.id == template_id))
                .one()
                ._mapping
            )
            columns = [c for c in instances.columns if c.name not in ("id", "business_key")]
            counter = select(literal(1).label("n")).cte("counter", recursive=True)
            counter = counter.union_all(select(counter.c.n + 1).where(counter.c.n < count))
            session.execute(
                insert(instances).from_select(
                    [c.name for c in columns] + ["business_key"],
                    select(
                        *[bound(source[c.name], c.type, dialect) for c in columns],
                        bound(CLONE_KEY, instances.c.business_key.type, dialect),
                    ).select_from(counter),
                )
            )
            clones = select(instances.c.id).where(instances.c.id > before).subquery()
            # Each clone's rows get task ids of their own: "c<instance>-<template row>".
            guid = (
                literal("c", String)
                + cast(clones.c.id, String)
                + literal("-", String)
                + cast(tasks.c.id, String)
            )
            copied = [c for c in tasks.columns if c.name not in ("id", "instance_id", "task_guid")]
            session.execute(
                insert(tasks).from_select(
                    ["instance_id", "task_guid", *[c.name for c in copied]],
                    select(clones.c.id, guid, *copied).select_from(
                        clones.join(tasks, tasks.c.instance_id == template_id)
                    ),
                )
            )
            timer_copied = [c for c in timers.columns if c.name not in ("id", "instance_id")]
            session.execute(
                insert(timers).from_select(
                    ["instance_id", *[c.name for c in timer_copied]],
                    select(clones.c.id, *timer_copied).select_from(
                        clones.join(timers, timers.c.instance_id == template_id)
                    ),
                )
            )
            session.commit()


def _timed(client: Client, path: str, check: str) -> float:
    started = time.perf_counter()
    status, body = client.get(path)
    took = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    if check == "api" and len(json.loads(body)["tasks"]) != OPEN_FOR_MEMBER:
        raise RuntimeError(f"GET {path} lists {len(json.loads(body)['tasks'])} tasks")
    if check == "inbox" and body.count(b'href="/tasks/') < OPEN_FOR_MEMBER:
        raise RuntimeError("the inbox does not show the member's open tasks")
    return took


def measure(sites: dict[int, tuple[History, Server, float]]) -> dict[str, Any]:
    """Both pages at every size, each size's database served by its own process, the sizes
    taking turns request by request; p50, p95 and the growth. `sites`: by size, the history,
    its server and the seconds it took to grow it."""
    browsers: dict[int, Client] = {}
    apis: dict[int, Client] = {}
    inbox: dict[int, list[float]] = {size: [] for size in SIZES}
    tasks: dict[int, list[float]] = {size: [] for size in SIZES}
    try:
        for size, (history, server, _grown_s) in sites.items():
            browsers[size] = Client(server.port)
            browsers[size].log_in(history.member.participant.username, PASSWORD)
            apis[size] = Client(server.port, history.member.token)
            for _ in range(WARM_UP):
                _timed(browsers[size], "/inbox", "inbox")
                _timed(apis[size], "/api/v1/tasks", "api")
        for repetition in range(REQUESTS):
            turn = repetition % len(SIZES)
            for size in SIZES[turn:] + SIZES[:turn]:
                inbox[size].append(_timed(browsers[size], "/inbox", "inbox"))
                tasks[size].append(_timed(apis[size], "/api/v1/tasks", "api"))
    finally:
        for client in [*browsers.values(), *apis.values()]:
            client.close()
    small, large = SIZES[0], SIZES[-1]
    figures: dict[str, Any] = {
        "open_tasks_of_member": OPEN_FOR_MEMBER,
        "running_share": 1 / RUNNING_SHARE,
        "grown_s": {str(size): round(site[2], 3) for size, site in sites.items()},
        "inbox": {str(size): percentiles(inbox[size]) for size in SIZES},
        "tasks_api": {str(size): percentiles(tasks[size]) for size in SIZES},
    }
    for name in ("inbox", "tasks_api"):
        figures[f"{name}_p50_10k_vs_100"] = round(
            figures[name][str(large)]["p50_s"] / figures[name][str(small)]["p50_s"], 3
        )
    return figures


def checks(name: str, figures: dict[str, Any]) -> list[Check]:
    """Each page's p50 and p95 at every size, and its growth against the target."""
    found: list[Check] = []
    for page, words in (("inbox", "inbox page"), ("tasks_api", "GET /api/v1/tasks")):
        spread = ", ".join(
            f"{int(size):,}: {ms(f['p50_s'])}/{ms(f['p95_s'])}" for size, f in figures[page].items()
        )
        growth = figures[f"{page}_p50_10k_vs_100"]
        found.append(
            Check(
                f"{words}, p50/p95 by instances; p50 10k vs 100",
                name,
                f"{spread}: {growth:.2f}x",
                f"<= {MAX_GROWTH}x",
                growth <= MAX_GROWTH,
            )
        )
    return found
