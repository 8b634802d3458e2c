"""Public draw pages (HTML, Chinese, mobile first): ``/p/draws``, ``/p/draws/<id>`` and the verifier ``/p/verify.py``.

``/p/verify.py`` is ``dr1.py`` itself, byte for byte: one standard-library
file that recomputes a draw from its public record.  Every draw page shows its
SHA-256 and the three commands that check the draw from any folder.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, render_template

from inspect_api.directory.models import DEPARTMENTS, INSTITUTION_KINDS
from inspect_api.draws import dr1, reads
from inspect_api.errors import NotFound
from inspect_api.extensions import public_endpoint
from inspect_api.public_site import HEADERS, BadParam, bad_param_page, error_page, page_number, page_qr
from inspect_api.query_args import accepts_query
from inspect_api.schemas import paginate
from inspect_api.urls import public_base_url

blp = Blueprint("draw_pages", __name__, url_prefix="/p")

PER_PAGE = 20
STATE_LABELS = {"committed": "已公布承诺值，待抽取", "drawn": "已抽取", "amended": "已抽取（检查组有调整）",
                "cancelled": "已取消"}
STRATIFICATION_LABELS = {"county": "按区县分层", "kind": "按机构类型分层", "none": "不分层"}
VERIFIER_PATH = "/p/verify.py"


@lru_cache(maxsize=1)
def verifier_bytes() -> bytes:
    """The public verifier: the bytes of ``inspect_api/draws/dr1.py`` as committed."""
    return Path(dr1.__file__).read_bytes()


def verifier_sha256() -> str:
    return hashlib.sha256(verifier_bytes()).hexdigest()


def _common() -> dict:
    return {"state_labels": STATE_LABELS, "departments": DEPARTMENTS, "kinds": INSTITUTION_KINDS,
            "stratifications": STRATIFICATION_LABELS}


@blp.errorhandler(BadParam)
def _bad_param(exc: BadParam):
    return bad_param_page(exc)


@blp.get("/verify.py")
@public_endpoint
def verifier():
    """The verifier as plain text (readable in a browser; ``curl -o verify.py`` saves it)."""
    data = verifier_bytes()
    response = Response(data, content_type="text/plain; charset=utf-8", headers={
        "Cache-Control": "public, max-age=3600", "Content-Disposition": 'inline; filename="verify.py"',
        "Access-Control-Allow-Origin": "*"})
    response.set_etag(verifier_sha256())  # the public cache answers If-None-Match with 304
    return response


@blp.get("/draws")
@accepts_query("page")
@public_endpoint
def draw_list():
    page = page_number()
    result = paginate(reads.public_draws(), page, PER_PAGE)
    items = [reads.list_item(d) for d in result["items"]]
    pages = max(1, -(-result["total"] // PER_PAGE))
    return render_template("draws/list.html", items=items, page=page, pages=pages, total=result["total"],
                           link=lambda p: "/p/draws" + (f"?page={p}" if p > 1 else ""),
                           page_qr=page_qr("/p/draws", {"page": page if page > 1 else None}),
                           **_common()), 200, HEADERS


@blp.get("/draws/<draw_id>")
@public_endpoint
def draw_detail(draw_id):
    try:
        draw = reads.public_draw(draw_id)
    except NotFound:
        return error_page(404, "抽查记录不存在", "该抽查记录不存在或尚未公布。")
    base = public_base_url()
    view = reads.draw_view(draw, base_url=base)
    return render_template("draws/detail.html", d=view, verifier_url=base + VERIFIER_PATH,
                           verifier_sha256=verifier_sha256(), page_qr=page_qr(f"/p/draws/{draw.id}"),
                           **_common()), 200, HEADERS
