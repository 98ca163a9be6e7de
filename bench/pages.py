"""Every page a person opens, with 10,000 instances in the database, and the inbox and the
task list as history grows from 100 instances to 10,000.

A Board member (also an IISG member) opens them, logged in through the login form: the inbox,
one of their open tasks, that silent procedure's page and its instance page, the decision
register, the needs list and the analysis page; GET /api/v1/tasks with their token. Ten silent
procedures wait for their answer at every size: what the person is asked stays the same while
the history grows around it. The rest are clones, made with bulk SQL, of two instances run
through the engine: one finished (all seven seats answered, the decision adopted) and one
still running that the member has already answered (its deadline timer waiting), nine
finished to one running. Each clone gets its own copies of the template's task rows, timers
and decision record with its answers. The needs database holds the demo's two mappings.

Each size is a database of its own with an `iisg serve` of its own, side by side, and the
requests take turns (the order of the sizes turning each time): the machine's speed, which
changes from one second to the next, is then the same for every size.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import String, Table, cast, func, insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from bench.completion import answer
from bench.databases import bound, now, settle
from bench.procedures import (
    PASSWORD,
    Person,
    answer_tasks,
    board_member,
    start_silent_procedures,
)
from bench.report import Check, ms, percentiles
from bench.serving import Client, Server
from engine.instances.unit_of_work import run_in_transaction
from models import Base, Decision, DecisionAnswer, HumanTask, ProcessInstance, Timer
from workflows.needs_database.demo_history import load_database_history
from workflows.people.roles import BOARD_SEATS

SIZES = (100, 10_000)
OPEN_FOR_MEMBER = 10
RUNNING_SHARE = 10  # one clone in this many is still running
MEMBER_SEAT = "AL"
# Before the measurement, enough rounds that each of a server's threads has opened its
# database connection and prepared its statements.
WARM_UP = 4
REQUESTS = 60  # per page and size
# A page far over its budget stops being asked once its requests took this long in all and
# at least MIN_REQUESTS were measured: its figure then rests on fewer of them (`n` in
# results.json), and the run stays short.
PAGE_CAP_S = 15.0
MIN_REQUESTS = 5
MAX_P95_S = 0.150
MAX_GROWTH = 1.3
GROWN = ("inbox", "task list (API)")  # the pages measured at every size
SETTLED = "process_instance, human_task, timer, decision, decision_answer"
CLONE_KEY = "bench-clone"


class History:
    """The member, the instances they wait on, and the two templates the clones copy."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.board = {seat.code: board_member(factory, seat.code) for seat in BOARD_SEATS}
        self.member: Person = self.board[MEMBER_SEAT]
        run_in_transaction(factory, lambda s: load_database_history(s, now=now()))
        self.waiting = start_silent_procedures(factory, OPEN_FOR_MEMBER)
        finished, running = start_silent_procedures(factory, 2)
        self._answer(finished, [s.code for s in BOARD_SEATS])
        self._answer(running, [MEMBER_SEAT])
        with factory() as session:
            status = session.get_one(ProcessInstance, finished).status
        if status != "completed":
            raise RuntimeError(f"the finished template is {status}, not completed")
        self.finished, self.running = finished, running

    def _answer(self, instance_id: int, seats: list[str]) -> None:
        tasks = answer_tasks(self.factory, [instance_id])[instance_id]
        for seat in seats:
            answer(self.factory, tasks[seat], self.board[seat].participant)

    def pages(self) -> dict[str, tuple[str, bool]]:
        """What the member opens: by name, the path and whether it is asked with the token."""
        waiting = self.waiting[0]
        task = answer_tasks(self.factory, [waiting])[waiting][MEMBER_SEAT]
        return {
            "inbox": ("/inbox", False),
            "task list (API)": ("/api/v1/tasks", True),
            "task page": (f"/tasks/{task}", False),
            "silent procedure page": (f"/silent-procedures/{waiting}", False),
            "instance page": (f"/instances/{waiting}", False),
            "decision register": ("/decisions", False),
            "needs list": ("/database/needs", False),
            "analysis page": ("/database/analysis", False),
        }

    def count(self) -> int:
        """Instances in the database."""
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(ProcessInstance)) or 0

    def grow(self, size: int) -> float:
        """Clone the templates until `size` instances exist; the seconds it took."""
        started = time.perf_counter()
        missing = size - self.count()
        if missing < 0:
            raise RuntimeError(f"asked for {size} instances, already have {self.count()}")
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
        with self.factory() as session:
            dialect = session.get_bind().dialect.name
            before = session.scalar(select(func.max(ProcessInstance.id))) or 0
            decisions_before = session.scalar(select(func.max(Decision.id))) or 0
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
            tasks = tables[HumanTask.__tablename__]
            # Each clone's rows get task ids of their own: "c<instance>-<template row>".
            guid = (
                literal("c", String)
                + cast(clones.c.id, String)
                + literal("-", String)
                + cast(tasks.c.id, String)
            )
            _copy(session, tasks, tasks.c.instance_id, template_id, clones.c.id, task_guid=guid)
            timers = tables[Timer.__tablename__]
            _copy(session, timers, timers.c.instance_id, template_id, clones.c.id)
            decisions = tables[Decision.__tablename__]
            _copy(session, decisions, decisions.c.instance_id, template_id, clones.c.id)
            template_decision = session.scalar(
                select(Decision.id).where(Decision.instance_id == template_id)
            )
            answers = tables[DecisionAnswer.__tablename__]
            _copy(
                session,
                answers,
                answers.c.decision_id,
                template_decision,
                select(decisions.c.id).where(decisions.c.id > decisions_before).subquery().c.id,
            )
            session.commit()


def _copy(
    session: Session, table: Table, owner: Any, template_id: Any, clone_ids: Any, **fresh: Any
) -> None:
    """Copy the template's rows of `table` (those whose `owner` column is `template_id`) once
    for each id of `clone_ids`, owned by it; `fresh` gives columns computed per copy."""
    copied = [c for c in table.columns if c.name not in ("id", owner.name, *fresh)]
    session.execute(
        insert(table).from_select(
            [owner.name, *fresh, *[c.name for c in copied]],
            select(clone_ids, *fresh.values(), *copied)
            .select_from(clone_ids.table)
            .join(table, owner == template_id),
        )
    )


def _timed(client: Client, path: str) -> float:
    started = time.perf_counter()
    status, body = client.get(path)
    took = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    # A seat's answer opens its silent procedure's page straight from the inbox.
    opened = body.count(b'href="/tasks/') + body.count(b'href="/silent-procedures/')
    if path == "/inbox" and opened < OPEN_FOR_MEMBER:
        raise RuntimeError("the inbox does not show the member's open tasks")
    if path == "/api/v1/tasks" and len(json.loads(body)["tasks"]) != OPEN_FOR_MEMBER:
        raise RuntimeError(f"GET {path} lists {len(json.loads(body)['tasks'])} tasks")
    return took


def measure(sites: dict[int, tuple[History, Server, float]]) -> dict[str, Any]:
    """Every page at the largest size, the inbox and the task list at every size, each size's
    database served by its own process, the sizes taking turns; p50, p95 and the growth.
    `sites`: by size, the history, its server and the seconds it took to grow it."""
    large, small = max(SIZES), min(SIZES)
    opened: dict[int, list[tuple[str, Client, str]]] = {}
    clients: list[Client] = []
    seconds: dict[int, dict[str, list[float]]] = {}
    try:
        for size, (history, server, _grown_s) in sites.items():
            browser = Client(server.port)
            browser.log_in(history.member.participant.username, PASSWORD)
            api = Client(server.port, history.member.token)
            clients += [browser, api]
            opened[size] = [
                (name, api if with_token else browser, path)
                for name, (path, with_token) in history.pages().items()
                if size == large or name in GROWN
            ]
            seconds[size] = {name: [] for name, _, _ in opened[size]}
        spent = {(size, name): 0.0 for size in SIZES for name in seconds[size]}
        for repetition in range(WARM_UP + REQUESTS):
            turn = repetition % len(SIZES)
            for size in SIZES[turn:] + SIZES[:turn]:
                for name, client, path in opened[size]:
                    measured = len(seconds[size][name])
                    if spent[size, name] > PAGE_CAP_S and measured >= MIN_REQUESTS:
                        continue
                    took = _timed(client, path)
                    spent[size, name] += took
                    if repetition >= WARM_UP:
                        seconds[size][name].append(took)
    finally:
        for client in clients:
            client.close()
    figures: dict[str, Any] = {
        "open_tasks_of_member": OPEN_FOR_MEMBER,
        "running_share": 1 / RUNNING_SHARE,
        "grown_s": {str(size): round(site[2], 3) for size, site in sites.items()},
        "paths": {name: path for name, (path, _) in sites[large][0].pages().items()},
        "by_size": {
            str(size): {name: percentiles(each) for name, each in pages.items()}
            for size, pages in seconds.items()
        },
    }
    figures["growth_p50"] = {
        name: round(
            figures["by_size"][str(large)][name]["p50_s"]
            / figures["by_size"][str(small)][name]["p50_s"],
            3,
        )
        for name in GROWN
    }
    return figures


def checks(name: str, figures: dict[str, Any]) -> list[Check]:
    """Each page's p95 at the largest size against the budget, and the growth of the inbox
    and the task list."""
    large, small = max(SIZES), min(SIZES)
    found: list[Check] = []
    for page, f in figures["by_size"][str(large)].items():
        found.append(
            Check(
                f"{page}, p95 at {large:,} instances",
                name,
                f"p50 {ms(f['p50_s'])}, p95 {ms(f['p95_s'])}"
                + ("" if f["n"] == REQUESTS else f" ({f['n']} requests)"),
                f"<= {ms(MAX_P95_S)}",
                f["p95_s"] <= MAX_P95_S,
            )
        )
    for page, growth in figures["growth_p50"].items():
        grown = figures["by_size"][str(large)][page]["p50_s"]
        base = figures["by_size"][str(small)][page]["p50_s"]
        found.append(
            Check(
                f"{page}, p50 at {large:,} vs {small:,} instances",
                name,
                f"{ms(grown)} / {ms(base)} = {growth:.2f}x",
                f"<= {MAX_GROWTH}x",
                growth <= MAX_GROWTH,
            )
        )
    return found
