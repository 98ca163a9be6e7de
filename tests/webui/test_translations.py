"""Every word the templates show goes through the translation catalogue; English ships."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import get_locale
from jinja2 import Environment, nodes
from lxml import html

from tests.webui.conftest import elements, main_region, words

WEBUI = Path(__file__).resolve().parents[2] / "webui"
TEMPLATES = WEBUI / "templates"
CATALOGUE = WEBUI / "translations" / "messages.pot"

# Words that are the same in every language, so there is nothing to translate.
NOT_WORDS = {
    "IISG Procedures",  # the site's name, a brand
    "SHA-256",  # the name of the hash function
}

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A tag with its attributes: names, classes, ids and URLs are not read by anyone.
_TAG = re.compile(r"<[^>]*>", re.DOTALL)
# An attribute a macro writes into the tag that calls it.
_ATTRIBUTE = re.compile(r'[\w-]+="[^"]*"?')
_ENTITY = re.compile(r"&#?\w+;")
_WORD = re.compile(r"\w")
# Between two pieces of template text stood a Jinja tag or expression.
_GAP = "\x00"
# Attributes a reader hears or sees, written as bare text rather than `{{ _("...") }}`.
_READ_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|alt|placeholder)="[^"{]*\w[^"]*"')


def _bare_text(template: Path) -> list[str]:
    """The text in `template` that a reader sees and no translation call wraps."""
    source = template.read_text(encoding="utf-8")
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)  # noqa: S701
    # Joined in document order, so that a tag cut by `{% if %}` is still one tag.
    html = _GAP.join(data.data for data in tree.find_all(nodes.TemplateData))
    text = _TAG.sub(" ", _COMMENT.sub(" ", html))
    text = _ENTITY.sub(" ", _ATTRIBUTE.sub(" ", text))
    for name in NOT_WORDS:
        text = text.replace(name, " ")
    bare = [" ".join(piece.split()) for piece in text.split(_GAP) if _WORD.search(piece)]
    return bare + _READ_ATTRIBUTE.findall(html)


def test_no_template_shows_untranslated_text() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    bare = {
        str(path.relative_to(TEMPLATES)): text for path in templates if (text := _bare_text(path))
    }
    assert bare == {}


def test_the_check_finds_bare_text(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text(
        '<nav aria-label="Main"><p class="lead{% if x %} is-late{% endif %}">'
        '{{ _("Wrapped") }} Left bare{% trans %}Also wrapped{% endtrans %}</p></nav>'
    )
    assert _bare_text(template) == ["Left bare", 'aria-label="Main"']


def test_the_login_page_speaks_english(app: Flask) -> None:
    page = (
        app.test_client()
        .get("/login", headers={"Accept-Language": "fr, de;q=0.8"})
        .get_data(as_text=True)
    )
    assert [words(h1) for h1 in elements(main_region(page), ".//h1")] == ["Log in"]
    assert html.fromstring(page).findtext(".//head/title") == "Log in · IISG Procedures"


def test_english_is_shipped(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(get_locale()) == "en"
    assert (WEBUI / "translations" / "en" / "LC_MESSAGES" / "messages.po").is_file()


def _msgids(catalogue: Path) -> set[object]:
    with catalogue.open("rb") as pot:
        # A string, or the singular and plural of a plural message.
        return {
            message.id if isinstance(message.id, str) else tuple(message.id)
            for message in read_po(pot)
            if message.id
        }


def test_the_catalogue_holds_the_templates_and_the_python_strings() -> None:
    msgids = _msgids(CATALOGUE)
    for known in ("Log in", "Board decisions", "Not allowed", "You are logged out."):
        assert known in msgids
    assert ("%(count)s task waits for you.", "%(count)s tasks wait for you.") in msgids


def test_the_committed_catalogue_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [pybabel, "extract", "-F", "babel.cfg", "-k", "lazy_gettext", "-o", fresh, "webui"],
        cwd=WEBUI.parent,
        check=True,
    )
    assert _msgids(fresh) == _msgids(CATALOGUE), "run pybabel extract and update (see babel.cfg)"
