"""Public site (HTML, Chinese, mobile first): home, results, institution profiles, notices.

Only published content is shown; anything else answers a Chinese 404 page.
Malformed or out-of-range query parameters (page, per_page, region, kind,
grade, period) answer a Chinese 400 page naming the parameter; a page number
past the last page shows an empty page with a link back to the first.
Every page carries a QR code of its own URL (``page_qr``).  Jinja escapes
all content (institution names, notes, notice text).
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from inspect_api import qrcodes
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.errors import NotFound
from inspect_api.urls import public_base_url
from inspect_api.extensions import public_endpoint
from inspect_api.publication import service
from inspect_api.publication.schemas import GRADE_CODES, period_bounds
from inspect_api.schemas import paginate

blp = Blueprint("publication_pages", __name__, url_prefix="/p")

PER_PAGE = 20
MAX_PAGE = 100000
REGION_RE = re.compile(r"^[1-9][0-9]{5}$")
HEADERS = {"Cache-Control": "no-cache"}  # live rectification status: always revalidate


class BadParam(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message




def _qr(path: str, params: dict | None = None):
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return qrcodes.svg(f"{public_base_url()}{path}" + (f"?{query}" if query else ""))


def _local_date(iso: str | None) -> str:
    """An ISO 8601 UTC timestamp as a business date (Asia/Shanghai)."""
    if not iso:
        return ""
    from datetime import datetime

    from inspect_api.clock import SHANGHAI

    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(SHANGHAI).date().isoformat()
    except ValueError:
        return iso[:10]


def _common() -> dict:
    return {"kinds": INSTITUTION_KINDS, "grades": service.GRADES, "local": service.local_time,
            "local_date": _local_date,
            "region_names": service.region_names()}


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,7}", raw):
        raise BadParam(name, f"参数 {name} 应为整数")
    value = int(raw)
    if not low <= value <= high:
        raise BadParam(name, f"参数 {name} 超出范围（{low}–{high}）")
    return value


def _filters() -> dict:
    out = {}
    region = request.args.get("region") or ""
    if region:
        if not REGION_RE.match(region):
            raise BadParam("region", "参数 region 应为六位行政区划代码")
        out["region"] = region
    kind = request.args.get("kind") or ""
    if kind:
        if kind not in INSTITUTION_KINDS:
            raise BadParam("kind", "参数 kind 不是已知的机构类型")
        out["kind"] = kind
    grade = request.args.get("grade") or ""
    if grade:
        if grade not in GRADE_CODES:
            raise BadParam("grade", "参数 grade 不是已知的等级")
        out["grade"] = grade
    period = request.args.get("period") or ""
    if period:
        try:
            period_bounds(period)
        except ValueError:
            raise BadParam("period", "参数 period 应为年份（如 2026）或年月（如 2026-11）") from None
        out["period"] = period
    return out


@blp.errorhandler(BadParam)
def _bad_param(exc: BadParam):
    return render_template("publication/error.html", status=400, title="请求参数有误", message=exc.message,
                           page_qr=_qr(request.path), **_common()), 400


def _not_found(message: str):
    return render_template("publication/error.html", status=404, title="页面不存在", message=message,
                           page_qr=_qr(request.path), **_common()), 404


def _page(query, page: int, per_page: int) -> dict:
    result = paginate(query, page, per_page)
    result["pages"] = max(1, math.ceil(result["total"] / per_page))
    return result


@blp.get("/")
@public_endpoint
def home():
    results = service.result_views(service.public_results().limit(6))
    notices = [service.notice_view(n, live=False) for n in service.public_notices().limit(5)]
    return render_template("publication/home.html", results=results, notices=notices, page_qr=_qr("/p/"),
                           **_common()), 200, HEADERS


@blp.get("/results")
@public_endpoint
def results():
    filters = _filters()
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", PER_PAGE, 1, 100)
    query_filters = {k: v for k, v in filters.items() if k != "period"}
    if "period" in filters:
        query_filters["date_from"], query_filters["date_to"] = period_bounds(filters["period"])
    result = _page(service.public_results(**query_filters), page, per_page)
    items = service.result_views(result["items"])

    def link(to_page: int) -> str:
        params = {**filters, "per_page": per_page if per_page != PER_PAGE else None,
                  "page": to_page if to_page > 1 else None}
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/p/results" + (f"?{query}" if query else "")

    return render_template("publication/results.html", items=items, page=page, pages=result["pages"],
                           total=result["total"], filters=filters, link=link,
                           csv_link="/api/v1/public/results.csv" + ("?" + urlencode(filters) if filters else ""),
                           page_qr=_qr("/p/results", {**filters, "page": page if page > 1 else None}),
                           **_common()), 200, HEADERS


@blp.get("/results/<result_id>")
@public_endpoint
def result_detail(result_id: str):
    try:
        result = service.public_result(result_id)
    except NotFound:
        return _not_found("该检查结果不存在或尚未公开。")
    view = service.result_view(result)
    return render_template("publication/result.html", r=view, page_qr=_qr(f"/p/results/{view['id']}"),
                           **_common()), 200, HEADERS


@blp.get("/results/<result_id>/photos/<photo_id>")
@public_endpoint
def result_photo(result_id: str, photo_id: str):
    try:
        result = service.public_result(result_id)
        item = service.public_photo(result, photo_id)
    except NotFound:
        return _not_found("该照片不存在或未公开。")
    from inspect_api.evidence import service as evidence

    data, content_type, _name = evidence.variant_bytes(item, "display")
    return Response(data, content_type=content_type, headers={"Cache-Control": "public, max-age=86400"})


@blp.get("/institutions/<public_id>")
@public_endpoint
def institution_profile(public_id: str):
    try:
        institution = service.public_institution(public_id)
    except NotFound:
        return _not_found("该机构不存在。")
    view = service.institution_view(institution)
    recent = service.result_views(service.public_results(institution_id=str(institution.id)).limit(10))
    return render_template("publication/institution.html", inst=view, results=recent,
                           page_qr=_qr(f"/p/institutions/{institution.public_id}"), **_common()), 200, HEADERS


@blp.get("/notices")
@public_endpoint
def notices():
    page = _int_arg("page", 1, 1, MAX_PAGE)
    result = _page(service.public_notices(), page, PER_PAGE)
    items = [service.notice_view(n, live=False) for n in result["items"]]
    return render_template("publication/notices.html", items=items, page=page, pages=result["pages"],
                           total=result["total"], page_qr=_qr("/p/notices", {"page": page if page > 1 else None}),
                           **_common()), 200, HEADERS


@blp.get("/notices/<notice_id>")
@public_endpoint
def notice_detail(notice_id: str):
    try:
        notice = service.public_notice(notice_id)
    except NotFound:
        return _not_found("该通报不存在或尚未发布。")
    view = service.notice_view(notice)
    return render_template("publication/notice.html", n=view, page_qr=_qr(f"/p/notices/{view['id']}"),
                           **_common()), 200, HEADERS
