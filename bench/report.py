"""Figures against their targets: percentiles, the table on stdout, bench/results.json."""

from __future__ import annotations

import json
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Check:
    """One figure as the table shows it; `met` is None for a figure recorded without target."""

    figure: str
    database: str
    measured: str
    target: str
    met: bool | None


def percentiles(seconds: Sequence[float]) -> dict[str, Any]:
    """p50 and p95 (nearest rank) of a sample, with its size and every value kept."""
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "p50_s": round(statistics.median(ordered), 6),
        "p95_s": round(p95, 6),
        "samples_s": [round(s, 6) for s in seconds],
    }


def ms(seconds: float) -> str:
    """Seconds in milliseconds, for the table."""
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def print_checks(found: Sequence[Check]) -> None:
    """The table: each figure, on which database, measured, its target, met or not."""
    widths = [
        max(len(c.figure) for c in found),
        max(len(c.database) for c in found),
        max(len(c.measured) for c in found),
        max(len(c.target) for c in found),
    ]
    head = ("figure", "database", "measured", "target")
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + "  result")
    for c in found:
        verdict = "recorded" if c.met is None else ("met" if c.met else "MISSED")
        cells = (c.figure, c.database, c.measured, c.target)
        print("  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)) + f"  {verdict}")


def write_results(
    figures: dict[str, Any], summary: dict[str, float], found: Sequence[Check]
) -> None:
    """bench/results.json: every raw figure, the checks as printed, and the summary."""
    results = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        **figures,
        "checks": [c.__dict__ for c in found],
        "summary": summary,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
