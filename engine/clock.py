"""The engine's clock.

SpiffWorkflow's timer module reads `datetime.now(timezone.utc)` itself. The engine patches
that module once so that, while an engine operation runs, "now" is the time the caller gave
(`at(now)`); outside an operation it is the real time (which time-machine moves in tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

_operation_now: ContextVar[datetime | None] = ContextVar("iisg_engine_now", default=None)


class _EngineDatetime(datetime):
    """`datetime` whose `now()` answers the engine operation's time when one is running."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _EngineDatetime:
        current = _operation_now.get()
        if current is None:
            real = datetime.now(tz)
            return cls.fromtimestamp(real.timestamp(), real.tzinfo)
        moment = (
            current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        )
        return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)


def now() -> datetime:
    """The current time in UTC: the running operation's, else the wall clock's."""
    current = _operation_now.get()
    return current if current is not None else datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Run the enclosed engine work as if the time were `moment`."""
    if moment.tzinfo is None:
        raise ValueError("the engine clock needs an aware datetime")
    token = _operation_now.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _operation_now.reset(token)


def _install() -> None:
    # One patch, at import: SpiffWorkflow's timers read the engine's clock from now on.
    spiff_timer.datetime = _EngineDatetime


_install()
