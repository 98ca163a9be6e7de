"""axe-core in the browser: a page has no WCAG 2.1 A or AA violation it can find."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """
async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}
"""


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations as a person reads them: rule, impact, where, and what to fix."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}")
            for summary_line in (node["summary"] or "").splitlines():
                lines.append(f"      {summary_line}")
    return "\n".join(lines)


def violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds on the page as it stands, against WCAG 2.1 A and AA."""
    if not AXE.exists():
        pytest.fail(
            f"{AXE} is missing: run `make setup` (npm ci installs axe-core).", pytrace=False
        )
    # Evaluated, not added as a <script>: the page's Content-Security-Policy stays in force.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(_RUN, WCAG_21_AA)
    return found


def assert_accessible(page: Page) -> None:
    """Fail with a readable list when axe-core finds any WCAG 2.1 A/AA violation."""
    found = violations(page)
    assert not found, f"axe-core found violations on {page.url}:\n{describe(found)}"
