"""Public site (HTML, Chinese, mobile first): home, results, institution profiles, notices.

Only published content is shown; anything else answers a Chinese 404 page.
A query parameter the page cannot use answers 400 with a message naming the
field as the page names it (检查期间, 页码); on the results page the filter
form comes back filled in as sent, with the message beside the field.  A page
number past the last page shows an empty page with a link back to the first.
Results are listed by inspection date, newest first; notices by year and
number, newest first.  Every page except the error pages carries a QR code of
its own URL (:func:`~inspect_api.public_site.page_qr`).  Jinja escapes all
content (institution names, notes, notice text).
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from inspect_api import vocabulary
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.errors import NotFound
from inspect_api.extensions import public_endpoint
from inspect_api.public_site import (HEADERS, MAX_PAGE, BadParam, bad_param_page, error_page, int_arg, page_number,
                                     page_qr)
from inspect_api.publication import profile, public_reads, sources
from inspect_api.publication.notices import notice_view, public_notice, public_notices
from inspect_api.publication.schemas import period_bounds
from inspect_api.query_args import accepts_query
from inspect_api.schemas import paginate

blp = Blueprint("publication_pages", __name__, url_prefix="/p")

PER_PAGE = 20
REGION_RE = re.compile(r"^[1-9][0-9]{5}$")
# The results filter: parameter -> the label the form shows (messages name the label, never the parameter).
FILTER_LABELS = {"region": "区划", "kind": "机构类型", "grade": "等级", "period": "检查期间", "page": "页码",
                 "per_page": "每页条数"}


def _common() -> dict:
    return {"kinds": INSTITUTION_KINDS, "grades": vocabulary.GRADES, "region_names": sources.region_names()}


def _filters() -> tuple[dict, dict]:
    """(usable filters, {parameter: Chinese message}) of the results filter."""
    out, errors = {}, {}
    region = request.args.get("region") or ""
    if region:
        if REGION_RE.match(region):
            out["region"] = region
        else:
            errors["region"] = "区划应为六位行政区划代码，请从列表中选择"
    kind = request.args.get("kind") or ""
    if kind:
        if kind in INSTITUTION_KINDS:
            out["kind"] = kind
        else:
            errors["kind"] = "机构类型不是已知的类型，请从列表中选择"
    grade = request.args.get("grade") or ""
    if grade:
        if grade in vocabulary.GRADES:
            out["grade"] = grade
        else:
            errors["grade"] = "等级不是已知的等级，请从列表中选择"
    period = (request.args.get("period") or "").strip()
    if period:
        try:
            period_bounds(period)
            out["period"] = period
        except ValueError:
            errors["period"] = "检查期间应为年份（如 2026）或年月（如 2026-11），年份在 2000–2100 之间"
    return out, errors


@blp.errorhandler(BadParam)
def _bad_param(exc: BadParam):
    return bad_param_page(exc)


def _not_found(message: str):
    return error_page(404, "页面不存在", message)


def _page(query, page: int, per_page: int) -> dict:
    result = paginate(query, page, per_page)
    result["pages"] = max(1, math.ceil(result["total"] / per_page))
    return result


@blp.get("/")
@public_endpoint
def home():
    results = public_reads.result_views(public_reads.public_results(by="inspection_date").limit(6))
    notices = [notice_view(n, live=False) for n in public_notices().limit(5)]
    return render_template("publication/home.html", results=results, notices=notices, page_qr=page_qr("/p/"),
                           **_common()), 200, HEADERS


@blp.get("/results")
@accepts_query("region", "kind", "grade", "period", "page", "per_page")
@public_endpoint
def results():
    filters, errors = _filters()
    page, per_page = 1, PER_PAGE
    for name, default, high in (("page", 1, MAX_PAGE), ("per_page", PER_PAGE, 100)):
        try:
            value = int_arg(name, FILTER_LABELS[name], default, 1, high)
        except BadParam as exc:
            errors[name] = exc.message
            continue
        page, per_page = (value, per_page) if name == "page" else (page, value)
    form = {k: request.args.get(k) or "" for k in ("region", "kind", "grade", "period")}
    if errors:
        return render_template("publication/results.html", items=[], page=1, pages=1, total=0, filters=filters,
                               form=form, errors=errors, labels=FILTER_LABELS, link=lambda _page: "/p/results",
                               csv_link=None, **_common()), 400, HEADERS
    query_filters = {k: v for k, v in filters.items() if k != "period"}
    if "period" in filters:
        query_filters["date_from"], query_filters["date_to"] = period_bounds(filters["period"])
    result = public_reads.public_results_page(public_reads.public_results(by="inspection_date", **query_filters),
                                              page, per_page)
    result["pages"] = max(1, math.ceil(result["total"] / per_page))
    items = result["items"]

    def link(to_page: int) -> str:
        params = {**filters, "per_page": per_page if per_page != PER_PAGE else None,
                  "page": to_page if to_page > 1 else None}
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return "/p/results" + (f"?{query}" if query else "")

    return render_template("publication/results.html", items=items, page=page, pages=result["pages"],
                           total=result["total"], filters=filters, form=form, errors={}, labels=FILTER_LABELS,
                           link=link,
                           csv_link="/api/v1/public/results.csv" + ("?" + urlencode(filters) if filters else ""),
                           page_qr=page_qr("/p/results", {**filters, "page": page if page > 1 else None}),
                           **_common()), 200, HEADERS


@blp.get("/results/<result_id>")
@public_endpoint
def result_detail(result_id: str):
    try:
        result = public_reads.public_result(result_id)
    except NotFound:
        return _not_found("该检查结果不存在或尚未公开。")
    view = public_reads.result_view(result)
    return render_template("publication/result.html", r=view, page_qr=page_qr(f"/p/results/{view['id']}"),
                           **_common()), 200, HEADERS


@blp.get("/results/<result_id>/photos/<photo_id>")
@public_endpoint
def result_photo(result_id: str, photo_id: str):
    try:
        result = public_reads.public_result(result_id)
        item = public_reads.public_photo(result, photo_id)
    except NotFound:
        return _not_found("该照片不存在或未公开。")
    from inspect_api.evidence import service as evidence

    data, content_type, _name = evidence.variant_bytes(item, "display")
    return Response(data, content_type=content_type, headers={"Cache-Control": "public, max-age=86400"})


@blp.get("/institutions/<public_id>")
@accepts_query("t")  # the poster's QR code opens this page with the check-in token
@public_endpoint
def institution_profile(public_id: str):
    try:
        institution = public_reads.public_institution(public_id)
    except NotFound:
        return _not_found("该机构不存在。")
    return render_template("publication/institution.html", **profile.institution_profile(institution),
                           page_qr=page_qr(f"/p/institutions/{institution.public_id}"), **_common()), 200, HEADERS


@blp.get("/notices")
@accepts_query("page")
@public_endpoint
def notices():
    page = page_number()
    result = _page(public_notices(), page, PER_PAGE)
    items = [notice_view(n, live=False) for n in result["items"]]
    return render_template("publication/notices.html", items=items, page=page, pages=result["pages"],
                           total=result["total"], link=lambda p: "/p/notices" + (f"?page={p}" if p > 1 else ""),
                           page_qr=page_qr("/p/notices", {"page": page if page > 1 else None}),
                           **_common()), 200, HEADERS


@blp.get("/notices/<notice_id>")
@public_endpoint
def notice_detail(notice_id: str):
    try:
        notice = public_notice(notice_id)
    except NotFound:
        return _not_found("该通报不存在或尚未发布。")
    view = notice_view(notice)
    return render_template("publication/notice.html", n=view, page_qr=page_qr(f"/p/notices/{view['id']}"),
                           **_common()), 200, HEADERS
