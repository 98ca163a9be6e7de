"""The web app as it runs in production: `iisg serve` (waitress) in a process of its own, run
from the source tree the bench imports (see bench/__init__.py), and small HTTP clients that keep
their connection open, as a script or a browser does."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import models

# The tree whose code is measured: where `models` was imported from.
SOURCE = Path(models.__file__).resolve().parent.parent
THREADS = 8
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Server:
    """A running web process: its port and process id."""

    port: int
    pid: int


def iisg_command() -> list[str]:
    """The source tree's own `iisg` command (its pyproject.toml's entry point), run by this
    Python, so that a tree whose command line moved is measured as it is."""
    scripts = tomllib.loads((SOURCE / "pyproject.toml").read_text(encoding="utf-8"))
    module, function = scripts["project"]["scripts"]["iisg"].split(":")
    call = (
        f"import sys; from {module} import {function}; sys.argv[0] = 'iisg'; sys.exit({function}())"
    )
    return [sys.executable, "-c", call]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(database_url: str) -> Iterator[Server]:
    """`iisg serve --no-scheduler` on a free local port with `database_url`; stopped after."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="iisg-bench-instance-") as instance:
        env = {
            **os.environ,
            "PYTHONPATH": str(SOURCE),
            "IISG_DATABASE_URL": database_url,
            "IISG_INSTANCE_DIR": instance,
            # The clients call far faster than the default limit per token allows.
            "IISG_API_RATE_LIMIT": "1000000/minute",
            # The pages are measured behind a password sign-in: a second factor would add a
            # step the bench does not time (and its code changes every 30 seconds).
            "IISG_TWO_FACTOR_REQUIRED": "false",
        }
        command = [
            *iisg_command(),
            "serve",
            "--no-scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--threads",
            str(THREADS),
        ]
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=SOURCE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait_until_up(port, process)
            yield Server(port, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"iisg serve stopped at start:\n{error}")
        try:
            # 503 too: the database answers, and no scheduler runs here on purpose.
            status, body = Client(port).get("/health")
            if status in (200, 503) and json.loads(body)["database"] == "ok":
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"iisg serve did not answer on port {port} in {START_TIMEOUT_S:.0f} s")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident size so far (VmHWM), in MiB."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mb(pid: int) -> float:
    """The process's resident size now (VmRSS), in MiB."""
    return _status_kib(pid, "VmRSS") / 1024


def _status_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"/proc/{pid}/status has no {field}")
    return int(found.group(1))


class Client:
    """One HTTP/1.1 connection to the local server, kept open between requests."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = token
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        headers = {"Connection": "keep-alive"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, data

    def get(self, path: str) -> tuple[int, bytes]:
        """GET `path`."""
        return self.request("GET", path)

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        """POST a JSON body."""
        return self.request("POST", path, json.dumps(body).encode(), "application/json")

    def log_in(self, username: str, password: str) -> None:
        """Log in through the login form, as a person does (its CSRF token included)."""
        status, page = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"the login page answered {status} without a form")
        form = urlencode(
            {"csrf_token": token.group(1).decode(), "username": username, "password": password}
        ).encode()
        status, _ = self.request("POST", "/login", form, "application/x-www-form-urlencoded")
        if status != 302:
            raise RuntimeError(f"logging in as {username} answered {status}, not a redirect")

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()
