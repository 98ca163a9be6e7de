"""`python -m bench`: every part on SQLite and on PostgreSQL, the table, bench/results.json;
exit status 1 when a target is missed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bench import completion, history, scheduler, storage, throughput
from bench.databases import fresh_database, postgresql_server
from bench.procedures import ANSWERING, board_member, deploy, start_silent_procedures
from bench.report import Check, print_checks, write_results
from bench.serving import Server, served
from models import make_engine, make_session_factory
from models.migrate import upgrade


@contextmanager
def deployed(url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database at `url`, migrated and with the methodology deployed."""
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        deploy(factory)
        yield factory
    finally:
        engine.dispose()


def completions(kind: str, url: str) -> tuple[dict[str, Any], list[Check]]:
    """Bare, engine and HTTP completions; on PostgreSQL throughput and memory; storage."""
    with deployed(url) as factory:
        board = {seat: board_member(factory, seat) for seat in ANSWERING}
        loaded = kind == "postgresql"
        clients = throughput.clients_of(factory) if loaded else []
        # The instances the engine answers are started last, so that this process still keeps
        # each one's workflow (IISG_KEPT_WORKFLOWS, 128) as a web process does after a step
        # it saved. (The web process keeps none of those it answers: the first of each
        # instance's five answers reads the state.)
        load_instances = (
            start_silent_procedures(factory, throughput.INSTANCES_NEEDED) if loaded else []
        )
        http_instances = start_silent_procedures(factory, completion.INSTANCES_NEEDED)
        engine_instances = start_silent_procedures(factory, completion.INSTANCES_NEEDED)
        figures: dict[str, Any] = {}
        with served(url) as server:
            figures["completion"] = completion.measure(
                factory, server.port, board, engine_instances, http_instances
            )
            if loaded:
                figures["throughput"] = throughput.measure(factory, server, clients, load_instances)
        figures["storage"] = storage.measure(factory, engine_instances + http_instances)
    found = completion.checks(kind, figures["completion"])
    if loaded:
        found += throughput.checks(kind, figures["throughput"])
    found += storage.checks(kind, figures["storage"])
    return figures, found


def pages(kind: str, server: str | None) -> tuple[dict[str, Any], list[Check]]:
    """The inbox page and the task list as history grows: a database and a web process for
    each size, side by side."""
    with ExitStack() as stack:
        sites: dict[int, tuple[history.History, Server, float]] = {}
        for size in history.SIZES:
            url = stack.enter_context(fresh_database(kind, server))
            grown = history.History(stack.enter_context(deployed(url)))
            grown_s = grown.grow(size)
            sites[size] = (grown, stack.enter_context(served(url)), grown_s)
        figures = history.measure(sites)
    return figures, history.checks(kind, figures)


def ratios(by_database: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """The compared figures: where both databases have one, the worse speaks."""

    def worst(part: str, key: str) -> float | None:
        found = [f[part][key] for f in by_database.values() if part in f]
        return max(found) if found else None

    return {
        "engine_vs_bare": worst("completion", "engine_vs_bare"),
        "http_vs_bare": worst("completion", "http_vs_bare"),
        "inbox_p50_10k_vs_100": worst("history", "inbox_p50_10k_vs_100"),
        "tasks_api_p50_10k_vs_100": worst("history", "tasks_api_p50_10k_vs_100"),
        **scheduler.ratios({k: f["scheduler"] for k, f in by_database.items()}),
        "spec_bytes_per_instance": worst("storage", "spec_bytes_per_instance"),
        "completions_per_s": worst("throughput", "completions_per_s"),
        "peak_rss_mb": worst("throughput", "peak_rss_mb"),
    }


def main() -> int:
    """Every part on every database; 1 when a target is missed or a figure is missing."""
    started = time.monotonic()
    server = postgresql_server()
    kinds = ["sqlite"] + (["postgresql"] if server else [])
    by_database: dict[str, dict[str, Any]] = {}
    found: list[Check] = []
    for kind in kinds:
        figures: dict[str, Any] = {}
        with fresh_database(kind, server) as url:
            print(f"{kind}: the scheduler ...", flush=True)
            figures["scheduler"] = scheduler.bench_database(url)
        with fresh_database(kind, server) as url:
            print(f"{kind}: completions, throughput, storage ...", flush=True)
            more, checked = completions(kind, url)
            figures.update(more)
            found += checked
        print(f"{kind}: the inbox and the task list as history grows ...", flush=True)
        figures["history"], checked = pages(kind, server)
        found += checked
        found += scheduler.checks({kind: figures["scheduler"]})
        by_database[kind] = figures
    if server is None:
        found.append(
            Check("throughput and memory need PostgreSQL", "postgresql", "not run", "run", False)
        )
    found.sort(key=lambda c: (c.figure, c.database))
    elapsed = time.monotonic() - started
    write_results(
        {"elapsed_s": round(elapsed, 1), "databases": by_database}, ratios(by_database), found
    )
    print_checks(found)
    print(f"\n{elapsed:.0f} s; written to bench/results.json.")
    return 0 if all(c.met is not False for c in found) else 1


if __name__ == "__main__":
    sys.exit(main())
