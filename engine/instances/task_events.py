"""Listeners told, inside the saving unit of work, of tasks newly put in the inbox.

What a listener writes (a mail in the outbox, say) commits or rolls back with the step that
opened the tasks. Listeners register once, at import time of the code that owns them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from models import HumanTask

Listener = Callable[[Session, Sequence[HumanTask], datetime], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> None:
    """Call `listener(session, tasks, now)` whenever a save opens tasks (once per listener)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    """Stop calling `listener`."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def opened(session: Session, tasks: Sequence[HumanTask], now: datetime) -> None:
    """Tell every listener that `tasks` were just opened (flushed, so they have ids)."""
    if not tasks:
        return
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(session, tasks, now)
