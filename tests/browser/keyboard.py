"""Moving through a page with the keyboard only: Tab to a control, then Space or Enter."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page

# Reads what has the focus; reading the page is not using the mouse.
_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const labels = el.labels ? Array.from(el.labels).map((l) => l.innerText) : [];
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute("type") || "",
    name: (el.getAttribute("aria-label") || labels.join(" ") || el.innerText || "").trim(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
  };
}
"""


@dataclass(frozen=True)
class Focus:
    """The element that has the keyboard focus."""

    tag: str
    type: str
    name: str
    outline: bool


def focused(page: Page) -> Focus | None:
    """What has the focus now, if anything."""
    found = page.evaluate(_FOCUSED)
    return None if found is None else Focus(**found)


def tab_to(page: Page, tag: str, name: str, limit: int = 60) -> Focus:
    """Press Tab until the focus is on the `tag` element named `name`; fail if it never is."""
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = focused(page)
        if focus is not None and focus.tag == tag and focus.name.startswith(name):
            return focus
        seen.append(f"{focus.tag} {focus.name!r}" if focus else "(nothing)")
    raise AssertionError(f"Tab never reached the {tag} {name!r}; it went: {', '.join(seen)}")
