"""No inline script and no inline event handler anywhere in the HTML the app serves.

The pages' CSP is ``script-src 'self'``: an inline ``<script>`` body or an ``onclick=`` would be blocked (the
poster's 打印 button once did nothing for that reason).  Scripts are same-origin files (``static/*.js``).
Every ``.html`` file under ``inspect_api/`` is checked: Jinja templates and static front ends alike.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "inspect_api"
HTML_FILES = sorted(p for p in ROOT.rglob("*.html") if "node_modules" not in p.parts)


class _Scripts(HTMLParser):
    """Collects inline script bodies, ``on*`` attributes and ``javascript:`` URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self._body: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            if name.lower() in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"<{tag} {name}=\"javascript:…\">")
        if tag == "script":
            if not dict(attrs).get("src"):
                self.problems.append("<script> without src (inline script)")
            self._in_script, self._body = True, []

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script:
            if "".join(self._body).strip():
                self.problems.append("<script> with an inline body")
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self._body.append(data)


def _problems(text: str) -> list[str]:
    # Jinja expressions and statements are not HTML; blank them so the parser sees the markup around them.
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}", "x", text, flags=re.S)
    parser = _Scripts()
    parser.feed(text)
    parser.close()
    return parser.problems


def test_every_html_file_is_found():
    names = {p.relative_to(ROOT).as_posix() for p in HTML_FILES}
    assert {"templates/public/base.html", "templates/directory/poster.html",
            "templates/inspections/report.html", "templates/draws/detail.html"} <= names


def test_no_inline_scripts_or_handlers_in_any_template():
    found = {p.relative_to(ROOT).as_posix(): _problems(p.read_text(encoding="utf-8")) for p in HTML_FILES}
    assert not {k: v for k, v in found.items() if v}


def test_the_scan_catches_what_csp_would_block():
    assert _problems('<button onclick="window.print()">打印</button>')
    assert _problems("<script>window.print()</script>")
    assert _problems('<a href="javascript:print()">x</a>')
    assert _problems('<p onmouseover=\'{{ x }}\'>')
    assert not _problems('<script src="{{ url_for(\'static\', filename=\'poster.js\') }}" defer></script>')
    assert not _problems('<p>{{ "onclick=" }} online</p>')
