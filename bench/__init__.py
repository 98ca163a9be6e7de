"""`make bench`: budgets a person can feel, measured on SQLite and PostgreSQL
(docs/BENCHMARKS.md).

IISG_BENCH_SOURCE=<tree> measures another source tree's code with this bench: its packages
are imported before this one's, and its `iisg serve` is the one started."""

import os
import sys
from pathlib import Path

_SOURCE = os.environ.get("IISG_BENCH_SOURCE", "").strip()
if _SOURCE:
    sys.path.insert(0, str(Path(_SOURCE).resolve()))
