"""``/console/``: the shell of the office console for every path under it (the module draws the page)."""

from __future__ import annotations

from flask import Blueprint, request

from inspect_api.frontends.common.pages import shell
from inspect_api.query_args import accepts_any_query

blp = Blueprint("console", __name__, url_prefix="/console", static_folder="static", static_url_path="/static")


@blp.get("/")
@blp.get("/<path:_rest>")
@accepts_any_query
def page(_rest: str = ""):
    return shell(app="console", title="医养结合监管工作台", base=request.script_root + "/console",
                 entry_endpoint="console", entry="console.js")
