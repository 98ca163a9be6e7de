"""`make test`, the README's test command, installs Debian's chromium for the browser tests
when it is missing, as it installs everything else. apt-get is shown, not run (SUDO=echo):
the machine's own Chromium stays."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """Run make in the project with `args`, capturing what it says."""
    # Not the flags of a make that runs this suite (`make test -j2` would pass its jobserver).
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_test_command_installs_chromium_when_it_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "chromium"

    result = make("chromium", f"CHROMIUM={missing}", "SUDO=echo")

    assert result.stdout.splitlines() == [
        "Chromium is missing; installing Debian's chromium for the browser tests.",
        "apt-get update -qq",
        "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
    ]
    # Here the install was only shown, so the browser is still missing: the run stops.
    assert result.returncode != 0
    assert f"{missing} is still missing" in result.stderr


def test_an_installed_chromium_is_left_alone(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)

    result = make("chromium", f"CHROMIUM={present}", "SUDO=echo")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_suite_runs_only_after_chromium_is_checked() -> None:
    planned = make("-n", "pytest", "CHROMIUM=/missing/chromium").stdout

    assert "apt-get install -y -qq chromium" in planned
    assert planned.index("apt-get install") < planned.index("== tests on SQLite")
