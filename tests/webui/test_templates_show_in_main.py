"""What a page says lands in its main region: no template hides content in its <title>, in
a block the base never shows, or outside its blocks, where Jinja drops it without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, nodes

TEMPLATES = Path(__file__).resolve().parents[2] / "webui" / "templates"
PAGES = sorted(
    path for path in TEMPLATES.rglob("*.html") if "{% extends" in path.read_text(encoding="utf-8")
)
# What a page template may hold outside its blocks: nothing a person would see.
_QUIET = (nodes.Extends, nodes.Import, nodes.FromImport, nodes.Macro, nodes.Assign)


def _parse(path: Path) -> nodes.Template:
    environment = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    return environment.parse(path.read_text(encoding="utf-8"))


def _blocks(path: Path) -> dict[str, nodes.Block]:
    return {block.name: block for block in _parse(path).find_all(nodes.Block)}


def test_there_are_page_templates_to_check() -> None:
    assert len(PAGES) > 30


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_a_page_title_is_short_plain_text_and_closes_on_its_line(page: Path) -> None:
    title = _blocks(page).get("title")
    assert title is not None, "the page has no title"
    markup = "".join(data.data for data in title.find_all(nodes.TemplateData))
    assert "<" not in markup, f"markup inside the <title> block: {markup.strip()[:80]!r}"
    opening = next(
        line
        for line in page.read_text(encoding="utf-8").splitlines()
        if "{% block title %}" in line
    )
    assert "{% endblock %}" in opening, "the title block does not close on its own line"


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_a_page_shows_only_blocks_the_base_places(page: Path) -> None:
    shown = set(_blocks(TEMPLATES / "base.html"))
    assert set(_blocks(page)) <= shown, "a block the base template never renders"
    for node in _parse(page).body:
        if isinstance(node, nodes.Output):
            stray = "".join(data.data for data in node.find_all(nodes.TemplateData)).strip()
            assert not stray and not list(node.find_all(nodes.Name)), (
                f"content outside any block, never shown: {stray[:80]!r}"
            )
        else:
            assert isinstance(node, (nodes.Block, *_QUIET)), f"{type(node).__name__} outside"
