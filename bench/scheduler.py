"""`make bench`: does the scheduler stay quick and punctual with many timers waiting?

On a fresh temporary SQLite database (and PostgreSQL too when IISG_BENCH_POSTGRESQL_URL is
set), one instance of a one-timer diagram is started through the engine and its rows are
cloned with bulk SQL, so that 100, then 10,000 instances wait on a timer. It measures:

(a) one scheduler pass that fires 10 due timers among 100 waiting, and among 10,000: the
    median of 24 passes each, the same 10 instances re-armed before every pass, the two
    sizes taking turns (the clones past the first 100 removed and cloned again) so that a
    machine growing busier or quieter favours neither. The pass must not grow with what
    waits: the ratio is at most 1.3.
(b) the wake-up delay of a real scheduler (background, real clock) with 10,000 waiting and 10
    due 1-3 seconds ahead: due time to the firing's audit time, and to its commit (under 1 s).

Writes bench/results.json (keeping its other keys) and prints a table; exits 1 when a target
is missed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeEngine

from engine.deploy import deploy_bundle
from engine.diagram import read_directory, require_bundle
from engine.instances import start_instance
from engine.scheduler import TimerScheduler, run_pass
from engine.unit_of_work import run_in_transaction
from models import (
    AuditEvent,
    Base,
    ProcessInstance,
    Timer,
    make_engine,
    make_session_factory,
)
from models.migrate import upgrade
from workflows.roles import known_roles

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
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
_FIRED = "bench_fired_instances"


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


def _now() -> datetime:
    return datetime.now(UTC)


# --- the database -----------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="iisg-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"


@contextmanager
def postgresql_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"iisg_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_template(factory: sessionmaker[Session]) -> Template:
    """Deploy the bench diagram and start one instance waiting far ahead, through the engine."""
    now = _now()
    bundle = require_bundle(read_directory(BENCH_DIR / "bpmn"), known_roles())
    run_in_transaction(factory, lambda s: deploy_bundle(s, bundle, actor="bench", now=now))
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


def settle(factory: sessionmaker[Session]) -> None:
    """Leave the database as a running system would be after a bulk change: SQLite's
    write-ahead log copied back, PostgreSQL's tables vacuumed and their statistics fresh.
    Otherwise the first passes after cloning pay for the clone, not for what waits."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ANALYZE process_instance, timer"))
        else:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _value(value: Any, type_: TypeEngine[Any], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL needs the type of a bound value in a SELECT list; SQLite's CAST would turn
    # a stored date into a number, so it gets the plain value.
    bound = literal(value, type_)
    return cast(bound, type_) if dialect == "postgresql" else bound


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
        copies = select(*[_value(source[c.name], c.type, dialect) for c in columns])
        session.execute(
            insert(table).from_select([c.name for c in columns], copies.select_from(counter))
        )
        waiting = select(Timer.instance_id)
        session.execute(
            insert(Timer).from_select(
                ["instance_id", "task_guid", "bpmn_id", "due_at"],
                select(
                    ProcessInstance.id,
                    _value(template.task_guid, Timer.task_guid.type, dialect),
                    _value(template.bpmn_id, Timer.bpmn_id.type, dialect),
                    _value(template.far_due, Timer.due_at.type, dialect),
                ).where(
                    ProcessInstance.process_key == PROCESS_KEY,
                    ProcessInstance.id.not_in(waiting),
                ),
            )
        )
        session.commit()
    settle(factory)
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
    settle(factory)
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
                    updated_at=_now(),
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
        due = _now() - timedelta(seconds=1)
        arm(factory, template, instance_ids, [due] * len(instance_ids))
        started = time.perf_counter()
        result = run_pass(factory, _now(), worker="bench")
        took = time.perf_counter() - started
        if result.fired_count != len(instance_ids) or result.failed:
            raise RuntimeError(f"the pass fired {result.fired_count}, failed {result.failed}")
        if repetition >= warm_up:
            seconds.append(took)
    return seconds


# --- (b) the wake-up delay of a running scheduler -------------------------------------------


class CommitWatch:
    """When each instance's timer firing committed, seen from the sessions' commits."""

    def __init__(self, factory: sessionmaker[Session], instance_ids: Sequence[int]) -> None:
        self.factory = factory
        self.wanted = set(instance_ids)
        self.committed: dict[int, datetime] = {}
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> CommitWatch:
        event.listen(self.factory, "after_flush", self._after_flush)
        event.listen(self.factory, "after_commit", self._after_commit)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.factory, "after_flush", self._after_flush)
        event.remove(self.factory, "after_commit", self._after_commit)

    def _after_flush(self, session: Session, _context: object) -> None:
        # The identity map holds objects weakly: note the firings while the flush has them.
        fired = {
            obj.instance_id
            for obj in session.new
            if isinstance(obj, AuditEvent) and obj.kind == "timer.fired"
        }
        session.info.setdefault(_FIRED, set()).update(fired)

    def _after_commit(self, session: Session) -> None:
        moment = _now()
        fired = session.info.pop(_FIRED, set())
        with self._lock:
            for instance_id in fired & self.wanted:
                self.committed.setdefault(instance_id, moment)
            if self.wanted <= set(self.committed):
                self.done.set()


def measure_wakeup(
    factory: sessionmaker[Session], template: Template, instance_ids: Sequence[int]
) -> dict[str, Any]:
    """Due time to audit time and to commit, per timer, with a real scheduler running."""
    start = _now()
    dues = [
        start + timedelta(seconds=1 + 2 * i / (len(instance_ids) - 1))
        for i in range(len(instance_ids))
    ]
    arm(factory, template, instance_ids, dues)
    due_of = dict(zip(instance_ids, dues, strict=True))
    scheduler = TimerScheduler(factory, safety_interval=60.0)
    with CommitWatch(factory, instance_ids) as watch:
        scheduler.start()
        try:
            finished = watch.done.wait(timeout=WAKEUP_TIMEOUT_S)
        finally:
            scheduler.shutdown()
    if not finished:
        raise RuntimeError(
            f"only {len(watch.committed)} of {len(instance_ids)} timers fired within "
            f"{WAKEUP_TIMEOUT_S:.0f} s"
        )
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.instance_id, AuditEvent.occurred_at).where(
                AuditEvent.kind == "timer.fired",
                AuditEvent.instance_id.in_(instance_ids),
                AuditEvent.occurred_at >= start,
            )
        ).all()
    audited: dict[int | None, datetime] = {instance_id: at for instance_id, at in rows}
    to_audit = [(audited[i] - due_of[i]).total_seconds() for i in instance_ids]
    to_commit = [(watch.committed[i] - due_of[i]).total_seconds() for i in instance_ids]
    return {
        "timers": len(instance_ids),
        "due_to_audit_s": [round(s, 4) for s in to_audit],
        "due_to_commit_s": [round(s, 4) for s in to_commit],
        "audit_max_s": round(max(to_audit), 4),
        "audit_median_s": round(statistics.median(to_audit), 4),
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


def write_results(by_database: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge the figures into bench/results.json, keeping what else it holds."""
    results: dict[str, Any] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["scheduler"] = {
        "measured_at": _now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "targets": {"pass_ratio_max": MAX_PASS_RATIO, "wakeup_max_s": MAX_WAKEUP_S},
        **by_database,
    }
    ratios = results.setdefault("ratios", {})
    # The worse database speaks for the scheduler.
    ratios["scheduler_pass_10k_vs_100"] = max(
        f["pass_ratio_10k_vs_100"] for f in by_database.values()
    )
    ratios["wakeup_delay_s"] = max(f["wakeup"]["commit_max_s"] for f in by_database.values())
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def print_table(by_database: dict[str, dict[str, Any]]) -> bool:
    """The figures as a table; True when every target is met."""
    small, large = SIZES
    print(
        f"\nScheduler: one pass firing {DUE_COUNT} due timers "
        f"(median of {ROUNDS * PER_ROUND}, the sizes taking turns)"
    )
    print(f"{'database':<12}{small:>9,} waiting{large:>10,} waiting{'ratio':>9}  target")
    met = True
    for name, f in by_database.items():
        ratio = f["pass_ratio_10k_vs_100"]
        ok = ratio <= MAX_PASS_RATIO
        met &= ok
        print(
            f"{name:<12}{_ms(f[f'waiting_{small}']['pass_median_s']):>17}"
            f"{_ms(f[f'waiting_{large}']['pass_median_s']):>18}{ratio:>9.2f}  "
            f"<= {MAX_PASS_RATIO} {'met' if ok else 'MISSED'}"
        )
    print(f"\nScheduler: wake-up delay, {large:,} waiting, {DUE_COUNT} due 1-3 s ahead")
    print(f"{'database':<12}{'to audit max/median':>22}{'to commit max/median':>24}  target")
    for name, f in by_database.items():
        w = f["wakeup"]
        ok = w["commit_max_s"] < MAX_WAKEUP_S
        met &= ok
        print(
            f"{name:<12}{_ms(w['audit_max_s']) + ' / ' + _ms(w['audit_median_s']):>22}"
            f"{_ms(w['commit_max_s']) + ' / ' + _ms(w['commit_median_s']):>24}  "
            f"< {MAX_WAKEUP_S:.0f} s {'met' if ok else 'MISSED'}"
        )
    return met


def main() -> int:
    """Run the bench on every database at hand; 1 when a target is missed."""
    by_database: dict[str, dict[str, Any]] = {}
    with sqlite_database() as url:
        print("SQLite ...", flush=True)
        by_database["sqlite"] = bench_database(url)
    server = os.environ.get("IISG_BENCH_POSTGRESQL_URL", "").strip()
    if server:
        with postgresql_database(server) as url:
            print("PostgreSQL ...", flush=True)
            by_database["postgresql"] = bench_database(url)
    write_results(by_database)
    met = print_table(by_database)
    print(f"\nWritten to {RESULTS}.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
