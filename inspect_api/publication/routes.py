"""Publication, notices and open-data endpoints.

Office endpoints (``office_admin``, region-scoped): publication preview and
publish, notices.  Open data under ``/api/v1/public/...`` needs no login,
answers only published content, is paginated with stable ids and sends an
``ETag`` (``If-None-Match`` → 304); results and notices are also offered as
CSV (UTF-8 with BOM, formula-safe cells, times ISO 8601 in Beijing time with
``+08:00``, labels and scores as on every other surface).
"""

from __future__ import annotations

import csv
import hashlib
import io

from flask import Response, current_app, jsonify, request

from inspect_api import vocabulary
from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.urls import public_base_url
from inspect_api.extensions import Blueprint, public_endpoint
from inspect_api.publication import deadlines, notices, office, public_reads, results
from inspect_api.publication import schemas as s
from inspect_api.schemas import PageArgsSchema, already_dumped, paginate
from inspect_api.apidoc import media_types, raises

blp = Blueprint("publication", __name__, url_prefix="/api/v1",
                description="一公开：检查结果公开、问题通报与开放数据")
# A submission starts the 20-working-day publication clock at once; a correction refreshes a published result.
blp.record_once(lambda _state: _start_publication_clock())


def _start_publication_clock() -> None:
    from inspect_api.inspections import hooks

    hooks.register_submitted_hook(deadlines.on_inspection_submitted)
    hooks.register_corrected_hook(results.on_inspection_corrected)

OFFICE = ("office_admin",)
PUBLIC_RESULT_PAGE = s.PublicResultPageSchema()
PUBLIC_INSTITUTION, PUBLIC_INSTITUTION_PAGE = s.PublicInstitutionSchema(), s.PublicInstitutionPageSchema()
PUBLIC_NOTICE, PUBLIC_NOTICE_PAGE = s.PublicNoticeSchema(), s.PublicNoticePageSchema()
PUBLICATION_QUEUE = s.QueuedPublicationPageSchema()
PUBLISHED_PAGE = s.PublishedByOfficePageSchema()


def _cfg() -> dict:
    return current_app.config["INSPECT"]



def _etagged(data, *, content_type: str = "application/json; charset=utf-8", body: bytes | None = None) -> Response:
    """A 200 with a strong ETag over the body, or a 304 when ``If-None-Match`` matches."""
    if body is None:
        body = current_app.json.compact(data).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
    presented = [t.strip() for t in request.headers.get("If-None-Match", "").split(",") if t.strip()]
    if etag in presented or "*" in presented or f"W/{etag}" in presented:
        return Response(status=304, headers=headers)
    return Response(body, status=200, headers=headers, content_type=content_type)


# --------------------------------------------------------------------------- publishing results

@blp.route("/inspections/<inspection_id>/publication-preview", methods=["POST"])
@blp.doc(operationId="previewPublication")
@login_required(*OFFICE)
@blp.arguments(s.PublishSchema)
@blp.response(200, s.PreviewSchema)
@raises(404, "INSPECTION_NOT_FOUND", description="检查不存在或不在本辖区")
@raises(409, "INSPECTION_NOT_SUBMITTED", description="检查尚未提交")
@raises(422, "PHOTO_NOT_IN_INSPECTION", "REDACT_TERMS_INVALID")
def preview(args, inspection_id):
    """Exactly what publishing with the same body would make public (redacted; photos only when chosen;
    notes only with ``include_notes``; ``redact_terms`` masked everywhere); nothing is published.
    A POST, so that residents' names given to mask never travel in a URL (and access logs)."""
    return results.preview(current_user(), inspection_id, photo_ids=args["photo_ids"],
                           redact_terms=args["redact_terms"], include_notes=args["include_notes"], now=utcnow(),
                           config=_cfg())


@blp.route("/inspections/<inspection_id>/publish", methods=["POST"])
@blp.doc(operationId="publishResult")
@login_required(*OFFICE)
@blp.arguments(s.PublishSchema)
@blp.response(201, s.PublicResultSchema)
@raises(404, "INSPECTION_NOT_FOUND", description="检查不存在或不在本辖区")
@raises(409, "INSPECTION_NOT_SUBMITTED", "ALREADY_PUBLISHED", description="检查尚未提交 / 已经公开")
@raises(422, "PHOTO_NOT_IN_INSPECTION", "REDACT_TERMS_INVALID")
def publish(body, inspection_id):
    """Publish the inspection's result (the preview's content with the same choices, frozen); once only."""
    result = results.publish(current_user(), inspection_id, photo_ids=body["photo_ids"],
                             redact_terms=body["redact_terms"], include_notes=body["include_notes"], now=utcnow(),
                             config=_cfg())
    return public_reads.result_view(result)


@blp.route("/inspections/<inspection_id>/publication", methods=["PUT"])
@blp.doc(operationId="revisePublication")
@login_required(*OFFICE)
@blp.arguments(s.PublishSchema)
@blp.response(200, s.PublicResultSchema)
@raises(404, "INSPECTION_NOT_FOUND", description="检查不存在或不在本辖区")
@raises(409, "RESULT_NOT_PUBLISHED", description="检查结果尚未公开")
@raises(422, "PHOTO_NOT_IN_INSPECTION", "REDACT_TERMS_INVALID")
def revise(body, inspection_id):
    """Change what a published result shows (photos, masked terms, notes), with the publish body;
    the facts stay as published."""
    result = results.revise(current_user(), inspection_id, photo_ids=body["photo_ids"],
                            redact_terms=body["redact_terms"], include_notes=body["include_notes"], now=utcnow())
    return public_reads.result_view(result)


@blp.route("/publication/pending", methods=["GET"])
@blp.doc(operationId="listPendingPublications")
@login_required(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PUBLICATION_QUEUE)
def pending(args):
    """Submitted results of the region not yet published, earliest deadline first, with their escalation steps
    and the working days left until the publication deadline."""
    now = utcnow()
    page, stamp, names = deadlines.pending_publications(current_user(), page=args["page"],
                                                        per_page=args["per_page"])
    items = office.pending_views(page["items"], now=now, stamp_rows=stamp, names_rows=names)
    return jsonify(already_dumped(PUBLICATION_QUEUE, {**page, "items": items}))


@blp.route("/publication/published", methods=["GET"])
@blp.doc(operationId="listPublishedResults")
@login_required(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PUBLISHED_PAGE)
def published(args):
    """Results published for the office's region, newest first, with the office's choices (to revise them)."""
    page = paginate(office.listed_published_results(current_user()), args["page"], args["per_page"])
    return jsonify(already_dumped(PUBLISHED_PAGE, {**page, "items": [office.published_view(r) for r in page["items"]]}))


@blp.route("/inspections/<inspection_id>/publication", methods=["GET"])
@blp.doc(operationId="getPublication")
@login_required(*OFFICE)
@blp.response(200, s.PublishedDetailSchema)
@raises(404, "INSPECTION_NOT_FOUND", "RESULT_NOT_PUBLISHED", description="检查不存在、不在本辖区或尚未公开")
def published_one(inspection_id):
    """The published result of one inspection: the office's current choices and what the public page shows."""
    return office.published_for(current_user(), inspection_id)


# --------------------------------------------------------------------------- notices (office)

@blp.route("/notices", methods=["GET"])
@blp.doc(operationId="listNotices")
@login_required(*OFFICE)
@blp.arguments(s.NoticeListArgsSchema, location="query")
@blp.response(200, s.NoticePageSchema)
def list_notices(args):
    """Notices of the office's region subtree (drafts included), newest first."""
    return notices.notices_page(notices.list_notices(current_user(), status=args.get("status")), args["page"],
                                args["per_page"])


@blp.route("/notices/candidates", methods=["GET"])
@blp.doc(operationId="listNoticeCandidates")
@login_required(*OFFICE)
@blp.arguments(s.CandidateArgsSchema, location="query")
@blp.response(200, s.CandidateListSchema)
@raises(422, "NOTICE_REGION_OUT_OF_SCOPE")
def candidates(args):
    """Findings a notice for the period and region may include; overdue / pre-selected ones come first."""
    user = current_user()
    return {"items": notices.candidate_findings(user, region=args.get("region") or user.region,
                                                period_from=args["period_from"], period_to=args["period_to"])}


@blp.route("/notices", methods=["POST"])
@blp.doc(operationId="createNotice")
@login_required(*OFFICE)
@blp.arguments(s.NoticeCreateSchema)
@blp.response(201, s.NoticeSchema)
@raises(422, "NOTICE_REGION_OUT_OF_SCOPE", "FINDING_OUT_OF_SCOPE", "PERIOD_INVALID")
def create_notice(body):
    """Draft a notice for a period and region (findings pre-selected unless ``finding_ids`` is given)."""
    return notices.notice_view(notices.draft_notice(current_user(), body, now=utcnow()))


@blp.route("/notices/<notice_id>", methods=["GET"])
@blp.doc(operationId="getNotice")
@login_required(*OFFICE)
@blp.response(200, s.NoticeSchema)
@raises(404, "NOTICE_NOT_FOUND")
def get_notice(notice_id):
    return notices.notice_view(notices.notice_for(current_user(), notice_id))


@blp.route("/notices/<notice_id>", methods=["PATCH"])
@blp.doc(operationId="updateNotice")
@login_required(*OFFICE)
@blp.arguments(s.NoticeUpdateSchema)
@blp.response(200, s.NoticeSchema)
@raises(404, "NOTICE_NOT_FOUND")
@raises(409, "NOTICE_NOT_DRAFT", description="通报已发布，不能修改")
@raises(422, "FINDING_OUT_OF_SCOPE", "PERIOD_INVALID")
def update_notice(body, notice_id):
    """Edit a draft's title, text, period or included findings."""
    return notices.notice_view(notices.update_notice(current_user(), notice_id, body, now=utcnow()))


@blp.route("/notices/<notice_id>/publish", methods=["POST"])
@blp.doc(operationId="publishNotice")
@login_required(*OFFICE)
@blp.response(200, s.NoticeSchema)
@raises(404, "NOTICE_NOT_FOUND")
@raises(409, "NOTICE_NOT_DRAFT", description="通报已发布或已撤回")
@raises(422, "NOTICE_TEXT_REQUIRED")
def publish_notice(notice_id):
    """Publish a draft; it receives its number (〔年〕n号, per office and year)."""
    return notices.notice_view(notices.publish_notice(current_user(), notice_id, now=utcnow()))


@blp.route("/notices/<notice_id>/retract", methods=["POST"])
@blp.doc(operationId="retractNotice")
@login_required(*OFFICE)
@blp.arguments(s.RetractSchema)
@blp.response(200, s.NoticeSchema)
@raises(404, "NOTICE_NOT_FOUND")
@raises(409, "NOTICE_NOT_PUBLISHED", description="通报未发布或已撤回")
@raises(422, "RETRACTION_REASON_REQUIRED")
def retract_notice(body, notice_id):
    """Retract a published notice; the reason is shown publicly with it."""
    return notices.notice_view(notices.retract_notice(current_user(), notice_id, reason=body["reason"], now=utcnow()))


# --------------------------------------------------------------------------- open data

def result_filters(args) -> dict:
    filters = {"region": args.get("region"), "kind": args.get("kind"), "grade": args.get("grade")}
    if args.get("period"):
        filters["date_from"], filters["date_to"] = s.period_bounds(args["period"])
    return filters


@blp.route("/public/results", methods=["GET"])
@blp.doc(operationId="listPublicResults")
@public_endpoint
@blp.arguments(s.ResultFilterArgsSchema, location="query")
@blp.response(200, s.PublicResultPageSchema)
def public_results(args):
    """Published inspection results, newest first; filters: region (with subordinates), kind, grade, period."""
    page = public_reads.public_results_page(public_reads.public_results(**result_filters(args)), args["page"],
                                            args["per_page"], with_findings=True)
    return _etagged(already_dumped(PUBLIC_RESULT_PAGE, page))


@blp.route("/public/results/<result_id>", methods=["GET"])
@blp.doc(operationId="getPublicResult")
@public_endpoint
@blp.response(200, s.PublicResultSchema)
@raises(404, "RESULT_NOT_FOUND", description="不存在或尚未公开")
def public_result(result_id):
    """One published result with live rectification status."""
    return _etagged(s.PublicResultSchema().dump(public_reads.result_view(public_reads.public_result(result_id))))


CSV_COLUMNS = ("公开编号", "检查编号", "机构名称", "机构公开编号", "机构类型", "区划代码", "区划", "检查日期", "检查事项",
               "得分", "等级", "问题数", "整改情况", "公开时间", "详情链接")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_safe(value) -> str:
    """A cell that spreadsheet programs will not evaluate as a formula."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _chunks(iterable, size: int):
    chunk: list = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@blp.route("/public/results.csv", methods=["GET"])
@blp.doc(operationId="exportPublicResultsCsv")
@public_endpoint
@blp.arguments(s.CsvArgsSchema, location="query")
@blp.response(200, description="UTF-8（带 BOM）CSV，可直接用 Excel 打开；单元格已防公式注入")
@media_types(200, "text/csv")
def public_results_csv(args):
    """Published results as CSV (same filters as the JSON list, no paging)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    base = public_base_url()
    results = public_reads.public_results(**result_filters(args)).limit(50000)
    for chunk in _chunks(results, 500):  # live status read 500 results at a time
        for v in public_reads.result_views(chunk):
            inst = v["institution"]
            writer.writerow([csv_safe(x) for x in (
                v["id"], v["code"], inst.get("name"), inst.get("public_id"), inst.get("kind_name"),
                inst.get("region"), inst.get("region_name"), v["inspected_on"],
                "；".join(m["name"] for m in v["matters"]), vocabulary.score_text(v["score"]), v["grade_name"],
                v["finding_count"], v["rectification"]["summary"], vocabulary.beijing_iso(v["published_at"]),
                f"{base}/p/results/{v['id']}")])
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    response = _etagged(None, content_type="text/csv; charset=utf-8", body=body)
    response.headers["Content-Disposition"] = "attachment; filename=\"results.csv\"; filename*=UTF-8''jianchajieguo.csv"
    return response


NOTICE_CSV_COLUMNS = ("通报公开编号", "文号", "标题", "发布单位", "通报范围", "区划代码", "期间开始", "期间结束", "状态",
                      "发布时间", "撤回时间", "撤回理由", "问题序号", "机构名称", "机构公开编号", "问题", "严重程度",
                      "整改期限", "通报时已逾期", "当前整改状态", "详情链接")


def _notice_rows(view: dict, base: str):
    """One row per problem a notice lists (a notice listing none still has one row, problem columns empty)."""
    head = (view["id"], view["number"], view["title"], view["issuer"], view["region_name"], view["region"],
            view["period_from"], view["period_to"], view["status_name"], vocabulary.beijing_iso(view["published_at"]),
            vocabulary.beijing_iso(view["retracted_at"]), view["retraction_reason"])
    link = f"{base}/p/notices/{view['id']}"
    if not view["items"]:
        yield (*head, *([""] * 8), link)
    for n, item in enumerate(view["items"], start=1):
        yield (*head, n, item["institution_name"], item["institution_public_id"], item["item_text"],
               item["severity_name"], item["deadline"], "是" if item["overdue_when_published"] else "否",
               item["status_name"], link)


@blp.route("/public/notices.csv", methods=["GET"])
@blp.doc(operationId="exportPublicNoticesCsv")
@public_endpoint
@blp.response(200, description="UTF-8（带 BOM）CSV，每个通报问题一行（未列问题的通报一行）；单元格已防公式注入")
@media_types(200, "text/csv")
def public_notices_csv():
    """Published and retracted notices as CSV with their problems and live rectification status, in the order of
    the public list (year and number, newest first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(NOTICE_CSV_COLUMNS)
    base = public_base_url()
    for chunk in _chunks(notices.public_notices().limit(10000), 200):
        for view in notices.notice_views(chunk):  # a chunk's live statuses in one query
            for row in _notice_rows(view, base):
                writer.writerow([csv_safe(x) for x in row])
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    response = _etagged(None, content_type="text/csv; charset=utf-8", body=body)
    response.headers["Content-Disposition"] = "attachment; filename=\"notices.csv\"; filename*=UTF-8''wentitongbao.csv"
    return response


@blp.route("/public/institutions", methods=["GET"])
@blp.doc(operationId="listPublicInstitutions")
@public_endpoint
@blp.arguments(s.InstitutionFilterArgsSchema, location="query")
@blp.response(200, s.PublicInstitutionPageSchema)
def public_institutions(args):
    """Institutions of the directory (public fields, locations, open and overdue finding counts)."""
    page = public_reads.public_institutions_page(region=args.get("region"), kind=args.get("kind"),
                                                 page=args["page"], per_page=args["per_page"])
    return _etagged(already_dumped(PUBLIC_INSTITUTION_PAGE, page))


@blp.route("/public/institutions/<public_id>", methods=["GET"])
@blp.doc(operationId="getPublicInstitution")
@public_endpoint
@blp.response(200, s.PublicInstitutionSchema)
@raises(404, "INSTITUTION_NOT_FOUND", description="机构不存在")
def public_institution(public_id):
    view = public_reads.institution_view(public_reads.public_institution(public_id))
    return _etagged(already_dumped(PUBLIC_INSTITUTION, view))


@blp.route("/public/notices", methods=["GET"])
@blp.doc(operationId="listPublicNotices")
@public_endpoint
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.PublicNoticePageSchema)
def public_notices(args):
    """Published and retracted notices (retracted ones carry their public reason), newest first."""
    page = notices.notices_page(notices.public_notices(), args["page"], args["per_page"])
    page["items"] = [notices.public_view(view) for view in page["items"]]
    return _etagged(already_dumped(PUBLIC_NOTICE_PAGE, page))


@blp.route("/public/notices/<notice_id>", methods=["GET"])
@blp.doc(operationId="getPublicNotice")
@public_endpoint
@blp.response(200, s.PublicNoticeSchema)
@raises(404, "NOTICE_NOT_FOUND", description="不存在或尚未发布")
def public_notice(notice_id):
    view = notices.public_view(notices.notice_view(notices.public_notice(notice_id)))
    return _etagged(already_dumped(PUBLIC_NOTICE, view))
