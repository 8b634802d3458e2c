"""Serves the shared static files (``/ui/static/...``) and renders a front end's page shell.

Both front ends are static shells plus same-origin ES modules that call the
JSON API with the bearer token (see the README, "The portal and the
console"): every path below ``/portal/`` or ``/console/`` answers the same
shell, and the module draws the page the path names.  The shell carries no
inline script or handler, so the strict CSP of every HTML response holds.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

blp = Blueprint("ui_common", __name__, static_folder="static", static_url_path="/ui/static",
                template_folder="templates")


def shell(*, app: str, title: str, base: str, entry_endpoint: str, entry: str) -> Response:
    """The HTML shell of a front end: the stylesheet, one module script, a placeholder while it loads."""
    html = render_template("frontends/shell.html", app=app, title=title, base=base, entry_endpoint=entry_endpoint,
                           entry=entry)
    return Response(html, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache", "Referrer-Policy": "same-origin"})
