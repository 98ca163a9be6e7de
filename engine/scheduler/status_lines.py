"""How the scheduler stands, in plain lines (what `iisg scheduler status` prints): the timers
waiting next, the last passes, and whether a scheduler is running."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from engine.scheduler.status import PassRecord, SchedulerStatus, WaitingTimer


def span(delta: timedelta) -> str:
    """A length of time in the two largest units that matter: '2 d 4 h', '5 min 3 s', '0.4 s'."""
    seconds = abs(delta.total_seconds())
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    while parts and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value} {unit}" for value, unit in parts[:2] if value) or "0 s"


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _timer_line(timer: WaitingTimer, now: datetime) -> str:
    lag = timer.due_at - now
    when = f"overdue by {span(lag)}" if lag.total_seconds() < 0 else f"in {span(lag)}"
    return (
        f"  {_moment(timer.due_at)}  {when:<22} instance {timer.instance_id:<7} "
        f"{timer.process_key:<24} {timer.bpmn_id}"
    )


def _took(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else span(delta)


def _pass_line(record: PassRecord) -> str:
    error = record.error or ""
    return (
        f"  {record.worker:<28} {_moment(record.started_at)}  {_took(record.duration):>9} "
        f"{record.fired:>5} {record.failed:>6} {record.other:>5}  {error}"
    ).rstrip()


def status_lines(status: SchedulerStatus) -> Iterator[str]:
    """The report, line by line."""
    last = status.last_pass
    if status.alive and last is not None:
        yield (
            f"Scheduler: running (last pass finished {span(status.now - last.finished_at)} ago, "
            f"by {last.worker})."
        )
    elif last is None:
        yield (
            "Scheduler: NOT RUNNING, no pass has been recorded. "
            "Start `iisg scheduler` (or `iisg serve`, which runs one)."
        )
    else:
        yield (
            f"Scheduler: NOT RUNNING, the last pass finished {span(status.now - last.finished_at)}"
            f" ago (a running scheduler passes at least every {span(status.alive_within / 3)}). "
            "Start `iisg scheduler` (or `iisg serve`, which runs one)."
        )
    yield ""
    yield f"Timers waiting: {status.waiting}."
    if status.next_timers:
        yield f"The next {len(status.next_timers)}:"
        yield from (_timer_line(timer, status.now) for timer in status.next_timers)
    yield ""
    if status.passes:
        count = len(status.passes)
        yield "The last pass:" if count == 1 else f"The last {count} passes:"
        yield (
            f"  {'worker':<28} {'started':<23}  {'took':>9} {'fired':>5} {'failed':>6} "
            f"{'other':>5}  error"
        )
        yield from (_pass_line(record) for record in status.passes)
    else:
        yield "No pass recorded in the last 7 days."
