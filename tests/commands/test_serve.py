"""`iisg serve` as `make run` starts it: a real process on a real port, where the
Secretariat logs in and finds the demo Board decision in the inbox."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Database

IISG = str(Path(sys.executable).parent / "iisg")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server_env(db: Database, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(IISG_DATABASE_URL=db.url, IISG_INSTANCE_DIR=str(tmp_path))
    return env


@pytest.fixture
def served(server_env: dict[str, str]) -> Iterator[str]:
    for command in (["deploy"], ["demo", "--password", "serve-test-password"]):
        subprocess.run([IISG, *command], env=server_env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [IISG, "serve", "--port", str(port)],
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30  # waiting for a process to listen, not for time
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"iisg serve exited: {process.stdout.read() if process.stdout else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("iisg serve did not listen within 30 seconds")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_secretariat_logs_in_and_finds_the_demo_decision(served: str) -> None:
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = browser.open(f"{served}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
    assert token, "the login form carries a CSRF token"
    form = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "username": "secretariat",
            "password": "serve-test-password",
        }
    ).encode()
    inbox = browser.open(f"{served}/login", data=form)
    page = inbox.read().decode()
    assert inbox.geturl().endswith("/inbox")
    assert "Choose how the Board decides" in page
    assert "IISG work programme 2027" in page
    assert "Extend the deadline (once)" in page  # the demo silent procedure is running
