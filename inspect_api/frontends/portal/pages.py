"""``/portal/``: the shell of the institution portal for every path under it (the module draws the page)."""

from __future__ import annotations

from flask import Blueprint, request

from inspect_api.frontends.common.pages import shell
from inspect_api.query_args import accepts_any_query

blp = Blueprint("portal", __name__, url_prefix="/portal", static_folder="static", static_url_path="/static")


@blp.get("/")
@blp.get("/<path:_rest>")
@accepts_any_query
def page(_rest: str = ""):
    return shell(app="portal", title="医养结合机构整改平台", base=request.script_root + "/portal",
                 entry_endpoint="portal", entry="portal.js")
