"""Crash safety: two Secretariat officers start procedures and answer their steps through the
API while the scheduler fires the timers between the steps, and the web and scheduler
processes are killed with SIGKILL at random moments and started again. Afterwards:

- every answer that got a success response is recorded, once, with what was sent;
- no step is answered twice, and no start that was acknowledged is missing;
- every timer fired exactly once, and every procedure ran to its end;
- every instance loads, and the audit chain verifies.

The workload runs on the real clock with real processes (`iisg serve --no-scheduler` and
`iisg scheduler`), on the database the suite runs on (SQLite, and PostgreSQL in `.ci/run`).
Its size and the random seed can be set with IISG_CRASH_INSTANCES and IISG_CRASH_SEED; the
seed of each run is printed with its figures, so a failing run can be replayed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.diagrams.bundle import read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.assignment import Grant
from engine.instances.loading import load
from models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.conftest import Database, record_figures
from workflows.people.accounts import create_user
from workflows.people.roles import known_roles
from workflows.people.tokens import create_token

IISG = str(Path(sys.executable).parent / "iisg")
DIAGRAMS = Path(__file__).parent / "bpmn"
PROCESS = "crash_workload"
INSTANCES = int(os.environ.get("IISG_CRASH_INSTANCES", "200"))
CLIENTS = 4  # two per officer
KILLS_EACH = 5  # the web process and the scheduler are each killed this many times
WAIT = "PT2S"  # the timer between the two steps of each procedure
GIVE_UP_AFTER = 300.0  # seconds for the whole workload to finish once the killing stops


def _now() -> datetime:
    return datetime.now(UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Process:
    """One of the system's processes, started and killed like an operator's server would be."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.port = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Call:
    status: int | None  # None: the connection broke, so the outcome is unknown to the caller
    body: dict[str, Any]


class Refused(Exception):
    """The server was not listening: the request was never sent."""


def _call(port: int, token: str, method: str, path: str, body: Any = None) -> Call:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        try:
            connection.connect()
        except OSError as err:
            raise Refused(str(err)) from err
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, f"/api/v1{path}", body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException):
            return Call(None, {})
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            parsed = {"raw": text.decode(errors="replace")}
        return Call(response.status, parsed)
    finally:
        connection.close()


@dataclass
class Ledger:
    """What the clients were told, kept apart from what the database says."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    started: list[int] = field(default_factory=list)  # 201 with the instance's id
    starts_unknown: int = 0
    answered: dict[int, str] = field(default_factory=dict)  # task id -> note, on 200
    answers_unknown: dict[tuple[int, str], int] = field(default_factory=dict)
    refused_as_done: int = 0  # 409: someone else (or the lost first try) had answered
    not_listening: int = 0
    other: Counter[int] = field(default_factory=Counter)  # any other status

    def __str__(self) -> str:
        return (
            f"{len(self.started)} starts acknowledged ({self.starts_unknown} unknown), "
            f"{len(self.answered)} answers acknowledged ({len(self.answers_unknown)} unknown), "
            f"{self.refused_as_done} refused as done, other statuses {dict(self.other)}"
        )


class Client(threading.Thread):
    """An officer's script: starts its share of procedures, then answers whatever is open."""

    def __init__(
        self,
        index: int,
        token: str,
        port: int,
        to_start: int,
        ledger: Ledger,
        done: threading.Event,
    ) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.token, self.port, self.to_start = token, port, to_start
        self.ledger, self.done = ledger, done
        self.random = random.Random(index)  # noqa: S311 - a workload, not a secret
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.done.is_set():
                try:
                    if self.to_start and self.random.random() < 0.4:
                        self._start_one()
                    elif not self._answer_one():
                        time.sleep(0.2)
                except Refused:
                    with self.ledger.lock:
                        self.ledger.not_listening += 1
                    time.sleep(0.1)
        except BaseException as err:
            self.failure = err

    def _start_one(self) -> None:
        call = _call(
            self.port,
            self.token,
            "POST",
            "/instances",
            {"process": PROCESS, "data": {"wait_for": WAIT}},
        )
        with self.ledger.lock:
            if call.status == 201:
                self.ledger.started.append(int(call.body["id"]))
            elif call.status is None:
                self.ledger.starts_unknown += 1
            else:
                self.ledger.other[call.status] += 1
                return  # not started: try again
        self.to_start -= 1

    def _answer_one(self) -> bool:
        listed = _call(self.port, self.token, "GET", "/tasks")
        if listed.status != 200:
            return False
        tasks = listed.body["tasks"]
        if not tasks:
            return False
        task_id = int(self.random.choice(tasks)["id"])
        note = uuid.uuid4().hex
        call = _call(
            self.port, self.token, "POST", f"/tasks/{task_id}/complete", {"data": {"note": note}}
        )
        with self.ledger.lock:
            if call.status == 200:
                self.ledger.answered[task_id] = note
            elif call.status == 409:
                self.ledger.refused_as_done += 1
            elif call.status is None:
                self.ledger.answers_unknown[(task_id, note)] = 1
            else:
                self.ledger.other[call.status] += 1
        return True


@pytest.fixture
def officers(db: Database) -> list[str]:
    """The crash diagram deployed, and a token for each of two Secretariat officers."""
    bundle = require_bundle(read_directory(DIAGRAMS), known_roles())
    now = _now() - timedelta(minutes=1)

    def work(session: Session) -> list[str]:
        deploy_bundle(session, bundle, actor="tests", now=now)
        tokens = []
        for name in ("officer-a", "officer-b"):
            user = create_user(
                session,
                name,
                "correct horse",
                display_name=name,
                now=now,
                grants=(Grant("secretariat"),),
            )
            tokens.append(create_token(session, user, "workload", now=now)[1])
        return tokens

    tokens: list[str] = db.run(work)
    return tokens


@pytest.fixture
def processes(db: Database, tmp_path: Path) -> Iterator[dict[str, Process]]:
    port = _free_port()
    env = dict(os.environ)
    env.update(
        IISG_DATABASE_URL=db.url,
        IISG_INSTANCE_DIR=str(tmp_path),
        IISG_SECRET_KEY="crash-workload",
        IISG_API_RATE_LIMIT="1000000/minute",
    )
    env.pop("IISG_SETTINGS", None)
    web = Process(
        "web",
        [IISG, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp_path / "web.log",
    )
    web.port = port
    scheduler = Process(
        "scheduler", [IISG, "scheduler", "--interval", "1"], env, tmp_path / "scheduler.log"
    )
    both = {"web": web, "scheduler": scheduler}
    yield both
    for process in both.values():
        process.kill()


def _wait_until_listening(port: int, token: str, web: Process) -> None:
    deadline = time.monotonic() + 60  # waiting for the process to start, not for time
    while time.monotonic() < deadline:
        assert web.alive(), web.log.read_text()[-2000:]
        try:
            if _call(port, token, "GET", "/me").status == 200:
                return
        except Refused:
            pass
        time.sleep(0.05)
    raise AssertionError("the web process did not start listening")


def _all_finished(db: Database, expected_at_least: int) -> bool:
    with db.session() as s:
        statuses = Counter(s.scalars(select(ProcessInstance.status)))
    return sum(statuses.values()) >= expected_at_least and set(statuses) == {"completed"}


def test_killing_the_web_and_scheduler_processes_loses_and_doubles_nothing(
    db: Database, officers: list[str], processes: dict[str, Process]
) -> None:
    seed = int(os.environ.get("IISG_CRASH_SEED", str(int(time.time()))))
    chance = random.Random(seed)  # noqa: S311 - a workload, not a secret
    web, scheduler = processes["web"], processes["scheduler"]
    port = web.port
    web.start()
    scheduler.start()
    _wait_until_listening(port, officers[0], web)

    ledger, done = Ledger(), threading.Event()
    shares = [INSTANCES // CLIENTS + (1 if i < INSTANCES % CLIENTS else 0) for i in range(CLIENTS)]
    clients = [Client(i, officers[i % 2], port, shares[i], ledger, done) for i in range(CLIENTS)]
    began = time.monotonic()
    for client in clients:
        client.start()

    victims = ["web", "scheduler"] * KILLS_EACH
    chance.shuffle(victims)
    kills: list[tuple[float, str]] = []
    try:
        for victim in victims:
            time.sleep(chance.uniform(1.5, 5.0))
            process = processes[victim]
            process.kill()
            kills.append((round(time.monotonic() - began, 2), victim))
            time.sleep(chance.uniform(0.1, 1.0))
            process.start()
            if victim == "web":
                _wait_until_listening(port, officers[0], web)
        give_up = time.monotonic() + GIVE_UP_AFTER
        while not (
            all(c.to_start == 0 for c in clients) and _all_finished(db, len(ledger.started))
        ):
            assert time.monotonic() < give_up, f"the workload did not finish; told: {ledger}"
            assert all(c.failure is None for c in clients), [c.failure for c in clients]
            assert web.alive() and scheduler.alive()
            time.sleep(0.5)
    finally:
        done.set()
        for client in clients:
            client.join(timeout=120)
    elapsed = time.monotonic() - began
    for process in processes.values():
        process.kill()  # the last kill: what is in the database is all there is
    assert all(c.failure is None for c in clients), [c.failure for c in clients]

    figures = _check_nothing_lost_or_doubled(db, ledger)
    figures.update(
        database=db.engine.dialect.name,
        seed=seed,
        seconds=round(elapsed, 1),
        kills_web=sum(1 for _, v in kills if v == "web"),
        kills_scheduler=sum(1 for _, v in kills if v == "scheduler"),
        kill_moments_s=[t for t, _ in kills],
        refused_as_already_done=ledger.refused_as_done,
        requests_to_a_dead_server=ledger.not_listening,
        other_statuses=dict(ledger.other),
    )
    record_figures("crash workload", figures)
    assert not ledger.other, f"unexpected answers from the server: {dict(ledger.other)}"


def _check_nothing_lost_or_doubled(db: Database, ledger: Ledger) -> dict[str, Any]:
    with db.session() as s:
        instances = {i.id: i for i in s.scalars(select(ProcessInstance))}
        tasks = {t.id: t for t in s.scalars(select(HumanTask))}
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        timers_left = s.scalars(select(Timer)).all()
        intact = audit.verify(s).intact
        unreadable = _unreadable(s, list(instances))

    completions = [e for e in events if e.kind == "task.completed"]
    per_step = Counter(e.payload["task_guid"] for e in completions)
    fired = Counter(e.instance_id for e in events if e.kind == "timer.fired")
    note_of_guid = {e.payload["task_guid"]: e.payload["data"]["note"] for e in completions}

    lost = [
        task_id
        for task_id, note in ledger.answered.items()
        if tasks[task_id].status != "completed"
        or tasks[task_id].submitted != {"note": note}
        or note_of_guid.get(tasks[task_id].task_guid) != note
    ]
    answered_twice = sum(count - 1 for count in per_step.values())
    fired_twice = sum(count - 1 for count in fired.values())
    never_fired = [i for i in instances if fired[i] == 0]
    missing_starts = set(ledger.started) - set(instances)
    # Answers whose connection broke either landed (once) or left no trace.
    landed_unknown = sum(
        1
        for (task_id, note) in ledger.answers_unknown
        if tasks[task_id].submitted == {"note": note}
    )

    assert lost == [], "answers that got a success response are not recorded as sent"
    assert answered_twice == 0, "a step was answered twice"
    assert missing_starts == set(), "acknowledged starts are missing"
    assert len(instances) <= len(ledger.started) + ledger.starts_unknown, "starts from nowhere"
    assert fired_twice == 0, "a timer fired twice"
    assert never_fired == [], "a timer never fired"
    # Every procedure ran to its end: two answers and one timer each, nothing left waiting.
    assert all(i.status == "completed" for i in instances.values())
    assert Counter(e.instance_id for e in completions) == Counter(
        {instance_id: 2 for instance_id in instances}
    )
    assert timers_left == []
    assert unreadable == [], "instances that no longer load"
    assert intact, "the audit chain does not verify"
    return {
        "instances": len(instances),
        "starts_acknowledged": len(ledger.started),
        "starts_outcome_unknown": ledger.starts_unknown,
        "answers_acknowledged": len(ledger.answered),
        "answers_outcome_unknown": len(ledger.answers_unknown),
        "answers_unknown_that_landed": landed_unknown,
        "answers_recorded": len(completions),
        "timers_fired": sum(fired.values()),
        "audit_events": len(events),
        "answers_lost": len(lost),
        "answers_doubled": answered_twice,
        "timers_doubled": fired_twice,
        "timers_never_fired": len(never_fired),
        "unreadable_instances": len(unreadable),
    }


def _unreadable(session: Session, instance_ids: list[int]) -> list[int]:
    broken = []
    for instance_id in instance_ids:
        try:
            if not load(session, instance_id).workflow.is_completed():
                broken.append(instance_id)
        except Exception:  # any failure to load is what this looks for
            broken.append(instance_id)
    return broken
