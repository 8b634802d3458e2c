"""The inspector app's shell over HTTP: headers, service worker, manifest, icons, size, no external code.

The app itself is exercised in a real browser by ``tests/browser/test_inspector_app*.py``; these
checks are the parts a plain HTTP client can verify (and the deterministic compressed size).
"""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from inspect_api.frontends.inspector import routes

SHELL_BUDGET_BYTES = 150 * 1024  # issue #15: app shell under 150 KB compressed
STATIC = Path(routes.__file__).resolve().parent / "static"


def test_app_page_is_the_shell_with_a_strict_policy(client):
    r = client.get("/app/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert "img-src 'self' data: blob:" in csp and "worker-src 'self'" in csp  # photos kept on the phone, the QR worker
    assert r.headers["Permissions-Policy"] == "camera=(self), geolocation=(self), microphone=()"
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["X-Frame-Options"] == "DENY"
    assert '<html lang="zh-CN">' in html and 'rel="manifest" href="/app/manifest.webmanifest"' in html
    # no inline script bodies, no on*= handlers, nothing from another origin
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert client.get("/app").status_code == 308 and client.get("/app").headers["Location"].endswith("/app/")


def test_service_worker_precaches_every_shell_file_of_this_version(app, client):
    r = client.get("/app/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    body = r.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', body).group(1)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    assert version in client.get("/app/").get_data(as_text=True)
    on_disk = {"/app/static/" + p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*")
               if p.is_file() and p.name not in routes.NOT_SHELL}
    assert set(precache) == {"/app/", "/app/manifest.webmanifest"} | on_disk
    for url in precache:
        assert client.get(url).status_code == 200, url
    # The version is a hash of the files: the same files give the same version in a new process.
    assert routes._compute_shell()["version"] == version


def test_manifest_makes_the_app_installable_with_real_icons(client):
    r = client.get("/app/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = json.loads(r.get_data(as_text=True))
    assert manifest["start_url"] == "/app/" and manifest["scope"] == "/app/" and manifest["display"] == "standalone"
    assert manifest["lang"] == "zh-CN" and manifest["name"] and manifest["short_name"]
    sizes = set()
    for icon in manifest["icons"]:
        data = client.get(icon["src"]).data
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add((icon["sizes"], icon.get("purpose", "any")))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_app_code_builds_no_html_from_strings_and_calls_no_other_origin():
    for path in [*STATIC.rglob("*.js"), *STATIC.rglob("*.css"), *(routes.TEMPLATES.iterdir())]:
        if path.name == "jsQR.js":  # vendored, unmodified
            continue
        text = path.read_text(encoding="utf-8")
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert forbidden not in text, (path.name, forbidden)
        assert not re.search(r"https?://", text), path.name
        assert not re.search(r"setAttribute\(\s*[\"']on", text), path.name


def test_app_shell_is_under_150_kb_compressed(client, capsys):
    """The deterministic size of the shell as gzip (level 9) would send it: every precached response."""
    body = client.get("/app/sw.js").get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    raw = compressed = 0
    for url in [*precache, "/app/sw.js"]:
        data = client.get(url).data
        raw += len(data)
        compressed += len(gzip.compress(data, 9, mtime=0))
    with capsys.disabled():
        print(f"\napp shell: {len(precache) + 1} files, {raw / 1024:.1f} KiB raw, {compressed / 1024:.1f} KiB gzip -9")
    assert compressed < SHELL_BUDGET_BYTES, compressed


@pytest.fixture
def institution(app):
    from tests.inspections.helpers import make_institution
    from datetime import datetime, timezone

    return make_institution(datetime.now(timezone.utc))


def test_public_page_opened_from_the_poster_hands_the_token_to_the_app(app, client, institution):
    from inspect_api.directory.qr import qr_payload, token_from_payload

    payload = qr_payload(institution)
    token = token_from_payload(payload)
    path = urlsplit(payload).path
    html = client.get(f"{path}?t={token}").get_data(as_text=True)
    link = re.search(r'<a href="(/app/#checkin\?[^"]+)">检查人员签到</a>', html)
    assert link, html
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).fragment.split("?", 1)[1])
    assert query == {"p": [institution.public_id], "t": [token]}
    # Without a token, or with one that is not token-shaped, the page has no such link.
    assert "检查人员签到" not in client.get(path).get_data(as_text=True)
    hostile = client.get(path, query_string={"t": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "检查人员签到" not in hostile and "<script>alert" not in hostile
