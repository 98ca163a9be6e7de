"""The scheduler: does a pass stay as quick with 10,000 timers waiting as with 100, and does
a timer fire within a second of its due time?

One instance of a one-timer diagram is started through the engine and its rows are cloned
with bulk SQL, so that 100, then 10,000 instances wait on a timer. It measures:

(a) one scheduler pass that fires 10 due timers among 100 waiting, and among 10,000: the
    median of 24 passes each, the same 10 instances re-armed before every pass, the two
    sizes taking turns (the clones past the first 100 removed and cloned again) so that a
    machine growing busier or quieter favours neither. The pass must not grow with what
    waits: the ratio is at most 1.3.
(b) the wake-up delay of a real scheduler (background, real clock) with 10,000 waiting and 10
    due 1-3 seconds ahead: due time to the firing's commit, seen by polling the audit trail
    every 5 ms from another connection (under 1 s).

`python -m bench.scheduler` runs this part alone, on SQLite (and PostgreSQL when reachable).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Integer,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import bound, each_database, settle
from bench.databases import now as wall_clock
from bench.report import Check, ms, print_checks
from engine.instances.steps import start_instance
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import TimerScheduler, run_pass
from models import (
    AuditEvent,
    Base,
    ProcessInstance,
    Timer,
    make_engine,
    make_session_factory,
)
from models.migrate import upgrade
from workflows.methodology.diagrams import deploy_directory

BENCH_DIR = Path(__file__).resolve().parent
SETTLED = "process_instance, timer"
PROCESS_KEY = "bench_timer"
DUE_COUNT = 10
SIZES = (100, 10_000)
# The sizes take turns, ROUNDS times, PER_ROUND measured passes each (the order flipped
# every round), so a machine that gets busier or quieter during the run favours neither.
ROUNDS = 8
PER_ROUND = 3
# Unmeasured passes first: connections opened, statements prepared (psycopg prepares a
# statement on its fifth run), so the first size is not charged for warming up.
WARM_UP = 6
MAX_PASS_RATIO = 1.3
MAX_WAKEUP_S = 1.0
WAKEUP_TIMEOUT_S = 20.0
POLL_S = 0.005


@dataclass
class Template:
    """The instance started through the engine, whose rows every clone copies."""

    instance_id: int
    state_json: str
    far_due: datetime
    task_guid: str
    bpmn_id: str

    def state_due_at(self, due: datetime) -> str:
        """The template's state with its timer due at `due` instead."""
        return self.state_json.replace(self.far_due.isoformat(), due.isoformat())


# --- the database -----------------------------------------------------------------------


def start_template(factory: sessionmaker[Session]) -> Template:
    """Deploy the bench diagram and start one instance waiting far ahead, through the engine."""
    now = wall_clock()
    run_in_transaction(
        factory, lambda s: deploy_directory(s, BENCH_DIR / "bpmn", actor="bench", now=now)
    )
    far = (now + timedelta(days=400)).replace(microsecond=0)
    instance_id: int = run_in_transaction(
        factory,
        lambda s: (
            start_instance(s, PROCESS_KEY, {"due": far.isoformat()}, actor="bench", now=now).id
        ),
    )
    with factory() as session:
        row = session.get(ProcessInstance, instance_id)
        timer = session.scalars(select(Timer).where(Timer.instance_id == instance_id)).one()
        assert row is not None and timer.due_at == far
        return Template(instance_id, row.state_json, far, timer.task_guid, timer.bpmn_id)


def grow(factory: sessionmaker[Session], template: Template, size: int) -> float:
    """Clone the template until `size` instances wait on a timer; the seconds it took."""
    started = time.perf_counter()
    table = Base.metadata.tables[ProcessInstance.__tablename__]
    with factory() as session:
        dialect = session.get_bind().dialect.name
        have = session.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(ProcessInstance.process_key == PROCESS_KEY)
        )
        missing = size - (have or 0)
        if missing <= 0:
            return 0.0
        source = (
            session.execute(select(table).where(table.c.id == template.instance_id)).one()._mapping
        )
        # A counter 1..missing, as a recursive query both databases understand.
        counter = select(literal(1, Integer).label("n")).cte("counter", recursive=True)
        counter = counter.union_all(select(counter.c.n + 1).where(counter.c.n < missing))
        columns = [c for c in table.columns if c.name != "id"]
        copies = select(*[bound(source[c.name], c.type, dialect) for c in columns])
        session.execute(
            insert(table).from_select([c.name for c in columns], copies.select_from(counter))
        )
        waiting = select(Timer.instance_id)
        session.execute(
            insert(Timer).from_select(
                ["instance_id", "task_guid", "bpmn_id", "due_at"],
                select(
                    ProcessInstance.id,
                    bound(template.task_guid, Timer.task_guid.type, dialect),
                    bound(template.bpmn_id, Timer.bpmn_id.type, dialect),
                    bound(template.far_due, Timer.due_at.type, dialect),
                ).where(
                    ProcessInstance.process_key == PROCESS_KEY,
                    ProcessInstance.id.not_in(waiting),
                ),
            )
        )
        session.commit()
    settle(factory, SETTLED)
    return time.perf_counter() - started


def shrink(factory: sessionmaker[Session], size: int) -> float:
    """Remove the clones past the first `size` instances (their timers go with them)."""
    started = time.perf_counter()
    with factory() as session:
        last_kept = session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.process_key == PROCESS_KEY)
            .order_by(ProcessInstance.id)
            .offset(size - 1)
            .limit(1)
        ).one()
        session.execute(
            delete(ProcessInstance).where(
                ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.id > last_kept
            )
        )
        session.commit()
    settle(factory, SETTLED)
    return time.perf_counter() - started


def spread_ids(factory: sessionmaker[Session], count: int, among: int | None = None) -> list[int]:
    """`count` instance ids spread evenly over the first `among` instances (default: all)."""
    with factory() as session:
        ids = list(
            session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.process_key == PROCESS_KEY)
                .order_by(ProcessInstance.id)
                .limit(among)
            )
        )
    step = len(ids) // count
    return [ids[i * step + step // 2] for i in range(count)]


def arm(
    factory: sessionmaker[Session],
    template: Template,
    instance_ids: Sequence[int],
    dues: Sequence[datetime],
) -> None:
    """Make each instance wait again, its timer due at the matching time."""
    with factory() as session:
        for instance_id, due in zip(instance_ids, dues, strict=True):
            session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == instance_id)
                .values(
                    state_json=template.state_due_at(due),
                    status="running",
                    ended_at=None,
                    updated_at=wall_clock(),
                )
            )
            session.execute(delete(Timer).where(Timer.instance_id == instance_id))
            session.execute(
                insert(Timer).values(
                    instance_id=instance_id,
                    task_guid=template.task_guid,
                    bpmn_id=template.bpmn_id,
                    due_at=due,
                )
            )
        session.commit()


# --- (a) one pass among few and among many ------------------------------------------------


def measure_passes(
    factory: sessionmaker[Session],
    template: Template,
    instance_ids: Sequence[int],
    *,
    count: int,
    warm_up: int = 0,
) -> list[float]:
    """Seconds of each of `count` passes firing the due timers (after `warm_up` passes)."""
    seconds: list[float] = []
    for repetition in range(warm_up + count):
        due = wall_clock() - timedelta(seconds=1)
        arm(factory, template, instance_ids, [due] * len(instance_ids))
        started = time.perf_counter()
        result = run_pass(factory, wall_clock(), worker="bench")
        took = time.perf_counter() - started
        if result.fired_count != len(instance_ids) or result.failed:
            raise RuntimeError(f"the pass fired {result.fired_count}, failed {result.failed}")
        if repetition >= warm_up:
            seconds.append(took)
    return seconds


# --- (b) the wake-up delay of a running scheduler -------------------------------------------


def seen_firing(
    factory: sessionmaker[Session], instance_ids: Sequence[int], since: datetime
) -> dict[int, datetime]:
    """When each instance's timer firing was first seen committed: the audit trail read
    every POLL_S from a connection of its own, as another process would see it."""
    seen: dict[int, datetime] = {}
    deadline = time.monotonic() + WAKEUP_TIMEOUT_S
    while len(seen) < len(instance_ids) and time.monotonic() < deadline:
        with factory() as session:
            fired = session.scalars(
                select(AuditEvent.instance_id).where(
                    AuditEvent.kind == "timer.fired",
                    AuditEvent.instance_id.in_(instance_ids),
                    AuditEvent.occurred_at >= since,
                )
            ).all()
        moment = wall_clock()
        for instance_id in fired:
            if instance_id is not None:
                seen.setdefault(instance_id, moment)
        time.sleep(POLL_S)
    return seen


def measure_wakeup(
    factory: sessionmaker[Session], template: Template, instance_ids: Sequence[int]
) -> dict[str, Any]:
    """Due time to the firing's commit, per timer, with a real scheduler running."""
    start = wall_clock()
    dues = [
        start + timedelta(seconds=1 + 2 * i / (len(instance_ids) - 1))
        for i in range(len(instance_ids))
    ]
    arm(factory, template, instance_ids, dues)
    due_of = dict(zip(instance_ids, dues, strict=True))
    scheduler = TimerScheduler(factory, safety_interval=60.0)
    scheduler.start()
    try:
        seen = seen_firing(factory, instance_ids, start)
    finally:
        scheduler.shutdown()
    if len(seen) < len(instance_ids):
        raise RuntimeError(
            f"only {len(seen)} of {len(instance_ids)} timers fired within {WAKEUP_TIMEOUT_S:.0f} s"
        )
    to_commit = [(seen[i] - due_of[i]).total_seconds() for i in instance_ids]
    return {
        "timers": len(instance_ids),
        "poll_s": POLL_S,
        "due_to_commit_s": [round(s, 4) for s in to_commit],
        "commit_max_s": round(max(to_commit), 4),
        "commit_median_s": round(statistics.median(to_commit), 4),
    }


# --- one database, then all ---------------------------------------------------------------


def measure_sizes(factory: sessionmaker[Session], template: Template) -> dict[str, Any]:
    """(a): passes among few and among many waiting, the sizes taking turns."""
    small, large = SIZES
    passes: dict[int, list[float]] = {small: [], large: []}
    resize_s: dict[int, list[float]] = {small: [grow(factory, template, small)], large: []}
    # The same 10 instances fire at both sizes: only what else waits differs.
    armed = spread_ids(factory, DUE_COUNT, among=small)
    measure_passes(factory, template, armed, count=0, warm_up=WARM_UP)
    current = small
    for round_number in range(ROUNDS):
        order = SIZES if round_number % 2 == 0 else SIZES[::-1]
        for size in order:
            if size != current:
                resize_s[size].append(
                    grow(factory, template, size) if size > current else shrink(factory, size)
                )
                current = size
            passes[size] += measure_passes(factory, template, armed, count=PER_ROUND)
    figures: dict[str, Any] = {}
    for size in SIZES:
        figures[f"waiting_{size}"] = {
            "resize_s": [round(t, 3) for t in resize_s[size]],
            "pass_s": [round(t, 4) for t in passes[size]],
            "pass_median_s": round(statistics.median(passes[size]), 4),
        }
    figures["pass_ratio_10k_vs_100"] = round(
        statistics.median(passes[large]) / statistics.median(passes[small]), 3
    )
    if current != large:
        grow(factory, template, large)
    return figures


def bench_database(url: str) -> dict[str, Any]:
    """Every figure for one database."""
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        template = start_template(factory)
        figures: dict[str, Any] = {
            "due_per_pass": DUE_COUNT,
            "rounds": ROUNDS,
            "passes_per_round": PER_ROUND,
            "warm_up_passes": WARM_UP,
        }
        figures.update(measure_sizes(factory, template))
        figures["wakeup"] = measure_wakeup(factory, template, spread_ids(factory, DUE_COUNT))
        return figures
    finally:
        engine.dispose()


def checks(by_database: dict[str, dict[str, Any]]) -> list[Check]:
    """Each database's figures against their targets."""
    small, large = SIZES
    found: list[Check] = []
    for name, f in by_database.items():
        ratio = f["pass_ratio_10k_vs_100"]
        found.append(
            Check(
                f"scheduler pass, {DUE_COUNT} due: {large:,} vs {small:,} waiting",
                name,
                f"{ms(f[f'waiting_{large}']['pass_median_s'])} / "
                f"{ms(f[f'waiting_{small}']['pass_median_s'])} = {ratio:.2f}x",
                f"<= {MAX_PASS_RATIO}x",
                ratio <= MAX_PASS_RATIO,
            )
        )
        wakeup = f["wakeup"]
        found.append(
            Check(
                f"timer wake-up delay, due to commit (max; {large:,} waiting)",
                name,
                f"{ms(wakeup['commit_max_s'])} (median {ms(wakeup['commit_median_s'])})",
                f"< {MAX_WAKEUP_S:.0f} s",
                wakeup["commit_max_s"] < MAX_WAKEUP_S,
            )
        )
    return found


def main() -> int:
    """This part alone, on every database at hand; 1 when a target is missed."""
    by_database: dict[str, dict[str, Any]] = {}
    for name, url in each_database():
        print(f"{name}: the scheduler ...", flush=True)
        by_database[name] = bench_database(url)
    found = checks(by_database)
    print_checks(found)
    return 0 if all(c.met is not False for c in found) else 1


if __name__ == "__main__":
    sys.exit(main())
