"""The portal's and the console's shells and static files: CSP-clean, same-origin, and calling only real API routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FRONTENDS = Path(__file__).resolve().parents[2] / "inspect_api" / "frontends"
# The portal, the console and what they share (the inspector app is checked by tests/frontends/test_inspector_shell.py).
WEB_APPS = ("common", "portal", "console")
SCRIPTS = sorted(p for app in WEB_APPS for p in (FRONTENDS / app).glob("static/*.js"))
TEMPLATES = sorted(p for app in WEB_APPS for p in (FRONTENDS / app).glob("templates/**/*.html"))


@pytest.mark.parametrize("path, entry", [("/portal/", "/portal/static/portal.js"),
                                         ("/portal/orders/0123456789abcdef01234567", "/portal/static/portal.js"),
                                         ("/console/", "/console/static/console.js"),
                                         ("/console/plans/new", "/console/static/console.js")])
def test_every_path_answers_the_shell_under_the_strict_csp(client, path, entry):
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and f'<script type="module" src="{entry}"></script>' in html
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["Cache-Control"] == "no-cache"
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []


def test_static_files_are_served_and_missing_ones_are_404(client):
    for url in ("/ui/static/api.js", "/ui/static/app.css", "/portal/static/portal.js", "/console/static/draws.js"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.mimetype in ("text/javascript", "application/javascript", "text/css"), (url, r.mimetype)
    assert client.get("/console/static/nope.js").status_code == 404
    assert client.get("/console").status_code in (301, 308)


def test_no_inline_script_handler_html_injection_or_external_request():
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\son\w+\s*=", text), template
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                          "setAttribute(\"on", "http://", "https://"):
            assert forbidden not in text, (script.name, forbidden)


def test_module_imports_resolve_to_shipped_files():
    served = {"ui": FRONTENDS / "common" / "static", "portal": FRONTENDS / "portal" / "static",
              "console": FRONTENDS / "console" / "static"}
    for script in SCRIPTS:
        app = {"common": "ui"}.get(script.parent.parent.name, script.parent.parent.name)
        url_dir = Path("/") / app / "static"
        for target in re.findall(r"^import[^;]*?from \"([^\"]+)\";", script.read_text(encoding="utf-8"), re.M | re.S):
            url = (url_dir / target).resolve() if target.startswith(".") else Path(target)
            parts = url.parts  # ('/', app, 'static', file)
            assert len(parts) == 4 and parts[2] == "static", (script.name, target)
            assert (served[parts[1]] / parts[3]).is_file(), (script.name, target)


def _api_routes(client) -> list[tuple[str, re.Pattern, str]]:
    """(method, pattern, a sample path) of every documented route, without the /api/v1 prefix."""
    doc = client.get("/api/v1/openapi.json").get_json()
    out = []
    for path, item in doc["paths"].items():
        path = path.removeprefix("/api/v1")
        rx = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
        sample = re.sub(r"\{\w+\}", "x", path)
        for method in item:
            out.append((method.upper(), rx, sample))
    return out


def test_every_api_call_of_the_pages_names_a_documented_route(client):
    verbs = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "del": "DELETE", "upload": "POST",
             "blob": "GET", "dataUrl": "GET", "download": "GET"}
    routes = _api_routes(client)
    calls = 0
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        for verb, raw in re.findall(r"session\.(get|post|put|patch|del|upload|blob|dataUrl|download)\(\s*[`\"]([^`\"]+)[`\"]", text):
            if raw.startswith("${"):
                continue  # built on a path variable that is itself checked where it is made
            raw = raw.split("?")[0]
            sample = re.sub(r"\$\{[^}]+\}", "x", raw)
            pattern = re.compile("^" + re.sub(r"\\\$\\\{[^}]+\\\}", "[^/]+", re.escape(raw)) + "$")
            assert any(m == verbs[verb] and (rx.match(sample) or pattern.match(route_sample))
                       for m, rx, route_sample in routes), (script.name, verb, raw)
            calls += 1
    assert calls > 60
