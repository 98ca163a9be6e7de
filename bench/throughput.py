"""Throughput: task completions per second from 8 API clients at once against one web process
(budget: at least 50 a second), and the peak resident size of that process under the load.

Each client answers, as a login holding every Board seat, the five answers of its own
instances one after another; no two clients share an instance, so the figure is the
server's, not the cost of clients colliding on one procedure.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bench.procedures import ANSWERING, NO_OBJECTION, Person, answer_tasks, whole_board
from bench.report import Check, ms, percentiles
from bench.serving import Client, Server, peak_rss_mb, rss_mb

CLIENTS = 8
INSTANCES_PER_CLIENT = 8
INSTANCES_NEEDED = CLIENTS * INSTANCES_PER_CLIENT
MIN_PER_S = 50.0


def clients_of(factory: sessionmaker[Session]) -> list[Person]:
    """The logins of the clients, each holding every Board seat."""
    return [whole_board(factory, f"bench-client-{n}") for n in range(1, CLIENTS + 1)]


def measure(
    factory: sessionmaker[Session], server: Server, people: list[Person], instances: list[int]
) -> dict[str, Any]:
    """Every client completes its tasks at once; completions per second and peak RSS."""
    tasks = answer_tasks(factory, instances)
    work = [
        [tasks[instance][seat] for instance in instances[n::CLIENTS] for seat in ANSWERING]
        for n in range(CLIENTS)
    ]
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    failures: list[str] = []
    ready = threading.Barrier(CLIENTS + 1)
    rss_before = rss_mb(server.pid)

    def run(n: int) -> None:
        client = Client(server.port, people[n].token)
        client.get("/api/v1/me")  # connected before the start
        ready.wait()
        try:
            for task_id in work[n]:
                started = time.perf_counter()
                status, body = client.post_json(
                    f"/api/v1/tasks/{task_id}/complete", {"data": NO_OBJECTION}
                )
                latencies[n].append(time.perf_counter() - started)
                if status != 200 or json.loads(body)["status"] != "completed":
                    failures.append(f"task {task_id}: {status} {body[:200]!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} completions failed, the first: {failures[0]}")
    done = sum(len(each) for each in latencies)
    return {
        "clients": CLIENTS,
        "server_threads": 8,
        "completions": done,
        "elapsed_s": round(elapsed, 3),
        "completions_per_s": round(done / elapsed, 1),
        "latency_under_load": percentiles([s for each in latencies for s in each]),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(server.pid), 1),
    }


def checks(name: str, figures: dict[str, Any]) -> list[Check]:
    """Completions per second against the budget; peak memory recorded."""
    load = figures["latency_under_load"]
    per_s = figures["completions_per_s"]
    return [
        Check(
            f"{CLIENTS} API clients at once, completions/s",
            name,
            f"{per_s:.1f}/s (each p50 {ms(load['p50_s'])}, p95 {ms(load['p95_s'])})",
            f">= {MIN_PER_S:.0f}/s",
            per_s >= MIN_PER_S,
        ),
        Check(
            "web process peak RSS (VmHWM) under that load",
            name,
            f"{figures['peak_rss_mb']:.0f} MiB",
            "recorded",
            None,
        ),
    ]
