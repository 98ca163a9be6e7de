"""`python -m bench`: every part on SQLite and on PostgreSQL, the table, bench/results.json;
exit status 1 when a target is missed. IISG_BENCH_SOURCE=<tree> measures another tree's code
(bench/__init__.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bench import completion, pages, scheduler, storage, throughput
from bench.databases import fresh_database, postgresql_server
from bench.procedures import ANSWERING, board_member, deploy, start_silent_procedures
from bench.report import Check, print_checks, write_results
from bench.serving import SOURCE, Server, served
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
    """Completions (bare, engine, API), throughput and memory under load, storage."""
    with deployed(url) as factory:
        board = {seat: board_member(factory, seat) for seat in ANSWERING}
        clients = throughput.clients_of(factory)
        load_instances = start_silent_procedures(factory, throughput.INSTANCES_NEEDED)
        http_instances = start_silent_procedures(factory, completion.INSTANCES_NEEDED)
        engine_instances = start_silent_procedures(factory, completion.INSTANCES_NEEDED)
        figures: dict[str, Any] = {}
        with served(url) as server:
            figures["completion"] = completion.measure(
                factory, server.port, board, engine_instances, http_instances
            )
            figures["throughput"] = throughput.measure(factory, server, clients, load_instances)
        figures["storage"] = storage.measure(factory, engine_instances + http_instances)
    found = completion.checks(kind, figures["completion"])
    found += throughput.checks(kind, figures["throughput"])
    found += storage.checks(kind, figures["storage"])
    return figures, found


def opened_pages(kind: str, server: str | None) -> tuple[dict[str, Any], list[Check]]:
    """The pages a person opens as history grows: a database and a web process for each
    size, side by side."""
    with ExitStack() as stack:
        sites: dict[int, tuple[pages.History, Server, float]] = {}
        for size in pages.SIZES:
            url = stack.enter_context(fresh_database(kind, server))
            grown = pages.History(stack.enter_context(deployed(url)))
            grown_s = grown.grow(size)
            sites[size] = (grown, stack.enter_context(served(url)), grown_s)
        figures = pages.measure(sites)
    return figures, pages.checks(kind, figures)


def summary(by_database: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The headline figures, the worse database's where both give one, to compare runs."""
    each = list(by_database.values())
    large = str(max(pages.SIZES))
    return {
        "page_p95_s": max(
            page["p95_s"] for f in each for page in f["pages"]["by_size"][large].values()
        ),
        "api_completion_p95_s": max(f["completion"]["http"]["p95_s"] for f in each),
        "completions_per_s": min(f["throughput"]["completions_per_s"] for f in each),
        "inbox_p50_10k_vs_100": max(f["pages"]["growth_p50"]["inbox"] for f in each),
        "tasks_api_p50_10k_vs_100": max(f["pages"]["growth_p50"]["task list (API)"] for f in each),
        "scheduler_pass_10k_vs_100": max(f["scheduler"]["pass_ratio_10k_vs_100"] for f in each),
        "wakeup_delay_s": max(f["scheduler"]["wakeup"]["commit_max_s"] for f in each),
        "spec_bytes_per_instance": max(f["storage"]["spec_bytes_per_instance"] for f in each),
        "engine_vs_bare": max(f["completion"]["engine_vs_bare"] for f in each),
        "peak_rss_mb": max(f["throughput"]["peak_rss_mb"] for f in each),
    }


def main() -> int:
    """Every part on every database; 1 when a target is missed or a database is missing."""
    started = time.monotonic()
    print(f"Measuring the code of {SOURCE}", flush=True)
    server = postgresql_server()
    kinds = ["sqlite"] + (["postgresql"] if server else [])
    by_database: dict[str, dict[str, Any]] = {}
    found: list[Check] = []
    for kind in kinds:
        figures: dict[str, Any] = {}
        with fresh_database(kind, server) as url:
            print(f"{kind}: the scheduler ...", flush=True)
            figures["scheduler"] = scheduler.bench_database(url)
        found += scheduler.checks({kind: figures["scheduler"]})
        with fresh_database(kind, server) as url:
            print(f"{kind}: completions, throughput, storage ...", flush=True)
            more, checked = completions(kind, url)
            figures.update(more)
            found += checked
        print(f"{kind}: the pages a person opens, 100 and 10,000 instances ...", flush=True)
        figures["pages"], checked = opened_pages(kind, server)
        found += checked
        by_database[kind] = figures
    if server is None:
        found.append(Check("every budget on PostgreSQL", "postgresql", "not run", "run", False))
    elapsed = time.monotonic() - started
    write_results(
        {"source": str(SOURCE), "elapsed_s": round(elapsed, 1), "databases": by_database},
        summary(by_database),
        found,
    )
    print_checks(found)
    print(f"\n{elapsed:.0f} s; written to bench/results.json.")
    return 0 if all(c.met is not False for c in found) else 1


if __name__ == "__main__":
    sys.exit(main())
