"""Rate limit counts in the web process's memory, for fixed windows, without a timer thread.

The memory storage of `limits` starts a timer thread whenever its last one has run out (after
10 ms) to expire old entries: under steady API traffic that is a new thread for nearly every
request, about 0.1 ms each (docs/BENCHMARKS.md), and a wake-up that competes with the next
request. A fixed window needs no thread: a count whose window has passed is dropped when it
is next read, and at most once per SWEEP_S a count is made anyway and the table is swept of
passed windows, so keys never used again do not pile up.

`iisg-memory://` is the default RATELIMIT_STORAGE_URI; like `memory://`, it counts in each
process on its own (several web workers need a shared store, e.g. `redis://`).
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SCHEME = "iisg-memory"
URI = f"{SCHEME}://"
SWEEP_S = 60.0


class ProcessCounts(Storage):
    """Fixed-window counts per key: (count, the moment its window ends)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - read by the registry of `limits`

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_sweep = time.time() + SWEEP_S

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` against `key`; the first count of a window starts it."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            count, ends = self._live(key, now)
            if ends is None:
                ends = now + expiry
            count += amount
            self._counts[key] = (count, ends)
            return count

    def get(self, key: str) -> int:
        with self._lock:
            return self._live(key, time.time())[0]

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._lock:
            ends = self._live(key, now)[1]
        return now if ends is None else ends

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared = len(self._counts)
            self._counts.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _live(self, key: str, now: float) -> tuple[int, float | None]:
        """The key's count in its current window, and when that ends (0, None: no window)."""
        found = self._counts.get(key)
        if found is None:
            return 0, None
        if found[1] <= now:
            del self._counts[key]
            return 0, None
        return found

    def _sweep(self, now: float) -> None:
        self._counts = {key: found for key, found in self._counts.items() if found[1] > now}
        self._next_sweep = now + SWEEP_S
