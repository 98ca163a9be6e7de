"""In-process notice that a save planned a timer, so a scheduler in this process can wake
earlier than it planned. Other processes rely on the scheduler's safety-net interval."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

_subscribers: list[Callable[[datetime], None]] = []
_lock = threading.Lock()


def subscribe(callback: Callable[[datetime], None]) -> None:
    """Call `callback(due_at)` whenever a save in this process plans a timer."""
    with _lock:
        _subscribers.append(callback)


def unsubscribe(callback: Callable[[datetime], None]) -> None:
    """Stop calling `callback`."""
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def planned(due_at: datetime) -> None:
    """Tell subscribers a timer is due at `due_at`."""
    with _lock:
        subscribers = list(_subscribers)
    for callback in subscribers:
        callback(due_at)
