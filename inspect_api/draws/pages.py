"""Public draw pages (HTML, Chinese, mobile first): ``/p/draws`` and ``/p/draws/<id>``."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from inspect_api import qrcodes
from inspect_api.clock import SHANGHAI, as_utc
from inspect_api.directory.models import DEPARTMENTS, INSTITUTION_KINDS
from inspect_api.draws import service
from inspect_api.errors import NotFound
from inspect_api.urls import public_base_url
from inspect_api.extensions import public_endpoint
from inspect_api.query_args import accepts_query
from inspect_api.schemas import paginate

blp = Blueprint("draw_pages", __name__, url_prefix="/p")

PER_PAGE = 20
STATE_LABELS = {"committed": "已公布承诺，待抽取", "drawn": "已抽取", "amended": "已抽取（有调整）",
                "cancelled": "已取消"}
STRATIFICATION_LABELS = {"county": "按区县分层", "kind": "按机构类型分层", "none": "不分层"}




def _local(dt) -> str:
    if dt is None:
        return ""
    return as_utc(dt).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _common() -> dict:
    return {"state_labels": STATE_LABELS, "departments": DEPARTMENTS, "kinds": INSTITUTION_KINDS,
            "stratifications": STRATIFICATION_LABELS, "local": _local}


@blp.get("/draws")
@accepts_query("page")
@public_endpoint
def draw_list():
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        page = 1
    result = paginate(service.public_draws(), page, PER_PAGE)
    items = [service.list_item(d) for d in result["items"]]
    pages = max(1, -(-result["total"] // PER_PAGE))
    url = f"{public_base_url()}/p/draws"
    return render_template("draws/list.html", items=items, page=page, pages=pages, total=result["total"],
                           page_qr=qrcodes.svg(url), **_common())


@blp.get("/draws/<draw_id>")
@public_endpoint
def draw_detail(draw_id):
    try:
        draw = service.public_draw(draw_id)
    except NotFound:
        return render_template("draws/not_found.html", **_common()), 404
    view = service.draw_view(draw, base_url=public_base_url())
    url = f"{public_base_url()}/p/draws/{draw.id}"
    return render_template("draws/detail.html", d=view, page_qr=qrcodes.svg(url), **_common())
