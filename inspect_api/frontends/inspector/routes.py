"""Serve the inspector's offline app at ``/app/``: the shell, its service worker and manifest.

No build step: the static files are plain ES modules, committed as they run.
The shell's version is a hash of every file the app is made of, so any change
to them gives the service worker new bytes; the browser installs it in the
background and the app offers it (never forced mid-inspection).  The service
worker precaches exactly the files listed here.

The app talks to the API only over HTTP, like any other client.  Its pages
carry the site's content security policy (``default-src 'self'``, no inline
scripts) plus what the app needs: ``blob:`` images (photos kept on the
device), the camera and geolocation for this origin.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request

from inspect_api import observability
from inspect_api.query_args import accepts_any_query

blp = Blueprint("inspector_app", __name__, url_prefix="/app", static_folder="static", static_url_path="/static",
                template_folder="templates")

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates" / "inspector"
NOT_SHELL = {"VENDORED.md", "jsQR.LICENSE"}  # shipped for people, not loaded by the app
CLASSIC_SCRIPTS = {"/app/static/jsQR.js", "/app/static/qr-worker.js"}  # loaded by the QR worker, not modules

# The site's policy for HTML (observability.HTML_SECURITY_HEADERS), plus what the app needs: images
# from blob: URLs (photos kept on the device), its own workers and manifest, the camera and the
# location for this origin (the public pages deny both).
_SITE = observability.HTML_SECURITY_HEADERS
_CSP = _SITE["Content-Security-Policy"].replace("img-src 'self' data:", "img-src 'self' data: blob:")
APP_HEADERS = {
    **_SITE,
    "Content-Security-Policy": f"{_CSP}; worker-src 'self'; connect-src 'self'; manifest-src 'self'",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    "X-Content-Type-Options": "nosniff",
}

APP_NAME = "医养结合监督检查"
SHORT_NAME = "医养检查"
THEME = "#0b4f8a"


def shell_files() -> list[Path]:
    """Every static file the app loads (and the service worker precaches), in a stable order."""
    return sorted(p for p in STATIC.rglob("*") if p.is_file() and p.name not in NOT_SHELL)


def _compute_shell() -> dict:
    digest = hashlib.sha256()
    for path in [*shell_files(), *sorted(TEMPLATES.iterdir())]:
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    urls = ["/app/", "/app/manifest.webmanifest"] + [
        "/app/static/" + p.relative_to(STATIC).as_posix() for p in shell_files()]
    return {"version": digest.hexdigest()[:16], "precache": urls}


def shell() -> dict:
    """``{version, precache}`` of this process (computed once; the files do not change while it runs)."""
    found = current_app.extensions.get("inspector_app")
    if found is None:
        found = current_app.extensions["inspector_app"] = _compute_shell()
    return found


TOKEN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,512}$")


def checkin_link() -> str | None:
    """On the public institution page opened from the poster's QR code (``/p/institutions/<id>?t=<token>``):
    the link that hands the check-in token to the app. The token goes in the fragment, which browsers
    never send to a server; the server verifies it when the check-in syncs."""
    public_id = (request.view_args or {}).get("public_id")
    token = request.args.get("t")
    if not public_id or not token or not TOKEN_RE.match(token):
        return None
    return "/app/#checkin?" + urlencode({"p": public_id, "t": token})


@blp.app_context_processor
def _poster_handoff():
    return {"inspector_checkin_link": checkin_link}


@blp.after_request
def _headers(response):
    for key, value in APP_HEADERS.items():
        response.headers[key] = value
    # The service worker keeps the shell offline; the network copy is always revalidated.
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("")
def app_root():
    return redirect("/app/", code=308)


@blp.get("/")
@accepts_any_query  # the screens read the fragment; a query (a shared link's tracking) is harmless
def index():
    """The app shell (one page; the screens are drawn by ``static/main.js``)."""
    modules = [u for u in shell()["precache"] if u.endswith(".js") and u not in CLASSIC_SCRIPTS]
    return render_template("inspector/index.html", version=shell()["version"], app_name=APP_NAME, theme=THEME,
                           modules=modules)


@blp.get("/sw.js")
def service_worker():
    """The service worker, scope ``/app/``: precaches the shell of this version, serves it offline."""
    body = render_template("inspector/sw.js", version=shell()["version"], precache=shell()["precache"])
    return current_app.response_class(body, content_type="text/javascript; charset=utf-8")


@blp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: installable to the home screen, opens standalone at ``/app/``."""
    icons = [{"src": "/app/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
             {"src": "/app/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
             {"src": "/app/static/maskable-512.png", "sizes": "512x512", "type": "image/png",
              "purpose": "maskable"}]
    body = {"id": "/app/", "name": APP_NAME, "short_name": SHORT_NAME, "lang": "zh-CN", "dir": "ltr",
            "description": "医养结合机构“双随机、一公开”现场检查：离线填写检查表、拍照取证、签名和提交",
            "start_url": "/app/", "scope": "/app/", "display": "standalone", "orientation": "portrait",
            "background_color": "#ffffff", "theme_color": THEME, "icons": icons}
    response = current_app.response_class(current_app.json.dumps(body), content_type="application/manifest+json")
    return response
