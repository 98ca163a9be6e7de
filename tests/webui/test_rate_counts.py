"""The rate limits' counts in the web process: a fixed window per key, kept without a thread."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from engine.instances.assignment import Participant
from tests.conftest import Clock, Database
from tests.webui.test_api_auth import bearer, make_token
from webui import rate_counts
from webui.api.limits import EXTENSION
from webui.rate_counts import SWEEP_S, ProcessCounts


def test_a_window_counts_from_its_first_hit_and_then_starts_afresh(
    clock: Clock,
) -> None:
    start = clock.now()
    limiter = FixedWindowRateLimiter(storage_from_string(rate_counts.URI))
    three_a_minute = parse("3/minute")
    assert [limiter.hit(three_a_minute, "token:a") for _ in range(4)] == [True] * 3 + [False]
    assert limiter.hit(three_a_minute, "token:b")  # each key counts on its own
    stats = limiter.get_window_stats(three_a_minute, "token:a")
    assert stats.remaining == 0 and stats.reset_time == (start + timedelta(minutes=1)).timestamp()

    clock.move(seconds=59)
    assert not limiter.hit(three_a_minute, "token:a")
    clock.move(seconds=1)  # the window has passed
    assert limiter.get_window_stats(three_a_minute, "token:a").remaining == 3
    assert limiter.hit(three_a_minute, "token:a")


def test_keys_never_used_again_are_swept_away(clock: Clock) -> None:
    counts = ProcessCounts()
    for n in range(1000):
        counts.incr(f"token:{n}", 60)
    clock.move(seconds=SWEEP_S)
    counts.incr("token:busy", 60)  # the first count after SWEEP_S sweeps the table
    assert counts.get("token:busy") == 1
    assert counts.reset() == 1  # only the live window was left


def test_clearing_a_key_or_all_starts_their_counts_afresh(clock: Clock) -> None:
    counts = ProcessCounts()
    counts.incr("token:a", 60, amount=2)
    counts.incr("token:b", 60)
    counts.clear("token:a")
    assert counts.get("token:a") == 0 and counts.get("token:b") == 1
    assert counts.get_expiry("token:a") == clock.now().timestamp()  # no window: it would end now
    assert counts.check()
    assert counts.reset() == 1 and counts.get("token:b") == 0


def test_a_scripts_steady_requests_start_no_thread(
    app: Flask, db: Database, clock: Clock, board_member: Participant
) -> None:
    # (limits' own memory store started a timer thread for nearly every request.)
    assert isinstance(app.extensions[EXTENSION].storage, ProcessCounts)
    api = app.test_client()
    secret = make_token(db, clock, "board-al")
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    running = set(threading.enumerate())
    for _ in range(5):
        time.sleep(0.02)  # longer than the 10 ms after which limits' timer has run out
        response = api.get("/api/v1/me", headers=bearer(secret))
        assert response.status_code == 200
        assert set(threading.enumerate()) <= running  # no thread new since
    assert int(response.headers["X-RateLimit-Remaining"]) < int(
        response.headers["X-RateLimit-Limit"]
    )
