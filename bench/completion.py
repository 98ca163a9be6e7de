"""A task completion through the HTTP API of a running web process (the budget), and, recorded
beside it, the same completion through the engine and in bare SpiffWorkflow in memory.

The typical completion is a Board member's answer to a silent procedure: five seats answer in
turn in each instance (the procedure stays open). Bare SpiffWorkflow does exactly the
workflow's part of it: restore the state from JSON onto the cached spec, complete the task,
run the engine steps, serialize with json. The three take turns instance by instance, so a
machine growing busier or quieter favours none of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import now
from bench.procedures import ANSWERING, NO_OBJECTION, Person, answer_tasks
from bench.report import Check, ms, percentiles
from bench.serving import Client
from engine.diagrams.forms import load_form
from engine.diagrams.specs import workflow_dict, workflow_from_json
from engine.instances.assignment import Participant
from engine.instances.loading import instance_specs
from engine.instances.script_engine import script_engine
from engine.instances.steps import complete_task
from engine.instances.unit_of_work import run_in_transaction
from models import HumanTask, ProcessInstance

WARM_UP = 4  # instances whose completions are not counted: caches filled, statements prepared
MEASURED = 40  # instances measured: 200 answers each way
INSTANCES_NEEDED = WARM_UP + MEASURED
MAX_HTTP_P95_S = 0.050


class BareCompletion:
    """SpiffWorkflow alone, in memory, from one instance's state: no database, no checks."""

    def __init__(self, factory: sessionmaker[Session], instance_id: int) -> None:
        with factory() as session:
            row = session.get_one(ProcessInstance, instance_id)
            self.state = row.state_json
            self.specs = instance_specs(session, row.definition, dict(row.called_definitions))
            guids = session.execute(
                select(HumanTask.organisation, HumanTask.task_guid).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
            self.guid_of = {str(seat): guid for seat, guid in guids}
            schema = load_form(row.definition.files, "silent_procedure_answer.json") or {}
        self.fields = list(schema.get("properties", {}))
        self.script_engine = script_engine()

    def answer(self, state: str, seat: str) -> str:
        """One seat's answer: deserialize, complete, run engine steps, serialize (as
        SpiffWorkflow does, and as the engine does, with json)."""
        workflow: BpmnWorkflow = workflow_from_json(state, self.specs)
        workflow.script_engine = self.script_engine
        task = workflow.get_task_from_id(UUID(self.guid_of[seat]))
        for key in self.fields:
            task.data[key] = NO_OBJECTION.get(key)
        task.run()
        workflow.do_engine_steps()
        return json.dumps(workflow_dict(workflow), separators=(",", ":"))

    def five_answers(self) -> list[float]:
        """The five seats in turn from the fresh state; the seconds of each."""
        seconds: list[float] = []
        state = self.state
        for seat in ANSWERING:
            started = time.perf_counter()
            state = self.answer(state, seat)
            seconds.append(time.perf_counter() - started)
        return seconds


def answer(factory: sessionmaker[Session], task_id: int, person: Participant) -> None:
    """One answer through the engine, in a unit of work of its own (as the web does it)."""
    run_in_transaction(
        factory, lambda s: complete_task(s, task_id, NO_OBJECTION, participant=person, now=now())
    )


def engine_answers(
    factory: sessionmaker[Session], tasks: dict[str, int], board: dict[str, Person]
) -> list[float]:
    """The five seats answer one instance through the engine, one unit of work each."""
    seconds: list[float] = []
    for seat in ANSWERING:
        started = time.perf_counter()
        answer(factory, tasks[seat], board[seat].participant)
        seconds.append(time.perf_counter() - started)
    return seconds


def http_answers(clients: dict[str, Client], tasks: dict[str, int]) -> list[float]:
    """The five seats answer one instance through the API, each on its own connection."""
    seconds: list[float] = []
    for seat in ANSWERING:
        started = time.perf_counter()
        status, body = clients[seat].post_json(
            f"/api/v1/tasks/{tasks[seat]}/complete", {"data": NO_OBJECTION}
        )
        seconds.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"completing task {tasks[seat]} answered {status}: {body[:300]!r}")
        if json.loads(body)["status"] != "completed":
            raise RuntimeError(f"task {tasks[seat]} is not completed: {body[:300]!r}")
    return seconds


def measure(
    factory: sessionmaker[Session],
    port: int,
    board: dict[str, Person],
    engine_instances: list[int],
    http_instances: list[int],
) -> dict[str, Any]:
    """Bare, engine and HTTP completions, taking turns instance by instance."""
    bare = BareCompletion(factory, http_instances[0])
    engine_tasks = answer_tasks(factory, engine_instances)
    http_tasks = answer_tasks(factory, http_instances)
    clients = {seat: Client(port, board[seat].token) for seat in ANSWERING}
    # Per measured instance, the seconds of its five answers each way.
    blocks: dict[str, list[list[float]]] = {"bare": [], "engine": [], "http": []}
    runs: dict[str, Callable[[int], list[float]]] = {
        "bare": lambda _i: bare.five_answers(),
        "engine": lambda i: engine_answers(factory, engine_tasks[engine_instances[i]], board),
        "http": lambda i: http_answers(clients, http_tasks[http_instances[i]]),
    }
    try:
        for i in range(len(engine_instances)):
            # The order turns too, so that none always runs right after another.
            order = list(runs)[i % 3 :] + list(runs)[: i % 3]
            for name in order:
                seconds = runs[name](i)
                if i >= WARM_UP:
                    blocks[name].append(seconds)
    finally:
        for client in clients.values():
            client.close()
    figures: dict[str, Any] = {
        name: percentiles([second for block in each for second in block])
        for name, each in blocks.items()
    }
    for way in ("engine", "http"):
        figures[f"{way}_vs_bare"] = round(figures[way]["p50_s"] / figures["bare"]["p50_s"], 3)
    figures["state_bytes"] = len(bare.state.encode("utf-8"))
    return figures


def checks(name: str, figures: dict[str, Any]) -> list[Check]:
    """The API's p95 against its budget; the engine's ratio to bare SpiffWorkflow recorded."""

    def spread(key: str) -> str:
        return f"p50 {ms(figures[key]['p50_s'])}, p95 {ms(figures[key]['p95_s'])}"

    http_p95 = figures["http"]["p95_s"]
    return [
        Check(
            "task completion through the API, p95",
            name,
            spread("http"),
            f"<= {ms(MAX_HTTP_P95_S)}",
            http_p95 <= MAX_HTTP_P95_S,
        ),
        Check(
            "engine vs bare SpiffWorkflow, p50s (no target)",
            name,
            f"engine {spread('engine')}; bare {spread('bare')}: {figures['engine_vs_bare']:.2f}x",
            "recorded",
            None,
        ),
    ]
