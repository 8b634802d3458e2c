"""The map page (``/p/map``): institutions near the reader or in a chosen district, no map tiles.

Server-rendered from the same feed as ``/api/v1/public/map.geojson``: a list
with 一键电话 (``tel:``) and 一键导航 (``geo:`` and the Amap, Baidu and Tencent
links, each in the datum it expects).  With the reader's consent, the
same-origin script ``/static/map.js`` asks the browser for the position and
orders the feed's institutions by distance on the phone; the position never
leaves the phone.  No tiles, fonts or other external requests.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from inspect_api import qrcodes
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.extensions import public_uncached
from inspect_api.publication import map as institution_map
from inspect_api.publication import sources
from inspect_api.query_args import accepts_query
from inspect_api.urls import public_base_url

blp = Blueprint("map_pages", __name__, url_prefix="/p")
REGION_RE = re.compile(r"^[1-9][0-9]{5}$")
LIST_LIMIT = 100
# The one public page that may ask for the reader's position (same origin only); the others keep geolocation=().
HEADERS = {"Cache-Control": "no-cache", "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)"}


def _districts() -> list[tuple[str, str]]:
    """(code, name) of the counties that have public institutions, by code."""
    from inspect_api.directory.institutions import find_institutions

    codes = find_institutions(region_prefix="", statuses=["active", "suspended"]).distinct("region")
    names = sources.region_names()
    return [(code, names.get(code, code)) for code in sorted(codes)]


def _page(status: int, message: str | None = None, **context):
    params = {k: v for k, v in (context.get("filters") or {}).items() if v}
    qr = qrcodes.svg(f"{public_base_url()}/p/map" + (f"?{urlencode(params)}" if params else ""))
    return render_template("publication/map.html", message=message, page_qr=qr, kinds=INSTITUTION_KINDS,
                           datums=institution_map.COORDINATES, **context), status, HEADERS


@blp.get("/map")
@accepts_query("region", "kind")
@public_uncached  # the page cache keeps a few headers only; this page must keep its Permissions-Policy
def map_page():
    region = request.args.get("region") or ""
    kind = request.args.get("kind") or ""
    filters = {"region": region, "kind": kind}
    districts = _districts()
    if (region and not REGION_RE.match(region)) or (kind and kind not in INSTITUTION_KINDS):
        return _page(400, "请求参数有误：区县或机构类型不正确", features=[], districts=districts, filters={},
                     total=0, feed_url="/api/v1/public/map.geojson")
    feed = institution_map.feature_collection(region=region or None, kind=kind or None, base_url="")
    feed_url = "/api/v1/public/map.geojson" + (f"?{urlencode({k: v for k, v in filters.items() if v})}"
                                               if region or kind else "")
    return _page(200, None, features=feed["features"][:LIST_LIMIT], total=len(feed["features"]),
                 districts=districts, filters=filters, feed_url=feed_url)
