"""Serves the shared static files (``/ui/static/...``), renders a front end's page shell, and leads the host's
root to the public site.

Both front ends are static shells plus same-origin ES modules that call the
JSON API with the bearer token (see the README, "The portal and the
console"): every path below ``/portal/`` or ``/console/`` answers the same
shell, and the module draws the page the path names.  The shell carries no
inline script or handler, so the strict CSP of every HTML response holds.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template

from inspect_api.query_args import accepts_any_query

blp = Blueprint("ui_common", __name__, static_folder="static", static_url_path="/ui/static",
                template_folder="templates")


def shell(*, app: str, title: str, base: str, entry_endpoint: str, entry: str) -> Response:
    """The HTML shell of a front end: the stylesheet, one module script, a placeholder while it loads."""
    html = render_template("frontends/shell.html", app=app, title=title, base=base, entry_endpoint=entry_endpoint,
                           entry=entry)
    return Response(html, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache", "Referrer-Policy": "same-origin"})


@blp.get("/")
@accepts_any_query  # a shared link's tracking query is harmless
def site_root():
    """The host's root is the public site's home (staff open ``/console/``, ``/portal/`` or ``/app/``)."""
    return redirect("/p/", code=302)
