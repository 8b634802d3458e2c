"""Satisfaction surveys: the public questionnaire and answers, and the office's results, answers and review."""

from __future__ import annotations

import csv
import io

from flask import Response, current_app, jsonify

from inspect_api.apidoc import media_types, raises, rate_limited
from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.extensions import Blueprint
from inspect_api.schemas import PageArgsSchema, already_dumped, paginate
from inspect_api.surveys import results, service, web
from inspect_api.surveys import schemas as s
from inspect_api.surveys.device import Device

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="满意度测评：匿名答卷、季度结果与审核")
OFFICE = "office_admin"
RESPONSE_PAGE = s.SurveyResponsePageSchema()
RESULT_PAGE = s.SurveyResultPageSchema()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def _cfg() -> dict:
    return current_app.config["INSPECT"]


def questionnaire_view(version) -> dict:
    c = version.content
    return {"code": version.code, "version": version.version, "title": c["title"], "intro": c.get("intro"),
            "scale": list(c["scale"]), "questions": [{"id": q["id"], "text": q["text"]} for q in c["questions"]],
            "comment": dict(c["comment"])}


@blp.route("/public/surveys/<public_id>", methods=["GET"])
@blp.doc(operationId="getPublicSurvey")
@web.public_budget
@blp.response(200, s.SurveyFormSchema)
@raises(404, "INSTITUTION_NOT_FOUND", description="机构不存在")
@raises(409, "SURVEY_INSTITUTION_CLOSED", "SURVEY_NO_QUESTIONNAIRE", description="机构已关闭或该类型暂无问卷")
def get_survey(public_id):
    """The questionnaire of an institution for this quarter, and a form token bound to this device's cookie
    (set here when missing). No login; nothing about the reader is asked."""
    institution = service.institution_for_survey(public_id)
    version = service.questionnaire_for(institution)
    device = web.current_device()
    quarter = service.quarter_of(utcnow())
    body = s.SurveyFormSchema().dump({
        "institution": {"public_id": institution.public_id, "name": institution.name, "kind": institution.kind,
                        "kind_name": INSTITUTION_KINDS.get(institution.kind, "")},
        "quarter": quarter, "quarter_label": service.quarter_label(quarter),
        "questionnaire": questionnaire_view(version), "already_answered": web.already_answered(institution, device),
        "token": web.form_token(device, institution.public_id)})
    response = current_app.json.response(body)
    response.headers["Cache-Control"] = "no-store"
    if device.new:
        web.set_device_cookie(response, device)
    return response


@blp.route("/public/surveys/<public_id>/answers", methods=["POST"])
@blp.doc(operationId="answerPublicSurvey")
@web.answer_budget
@rate_limited
@blp.arguments(s.SurveyAnswerInputSchema)
@blp.response(201, s.SurveyAnswerResultSchema)
@raises(404, "INSTITUTION_NOT_FOUND", description="机构不存在")
@raises(409, "SURVEY_ALREADY_ANSWERED", "SURVEY_INSTITUTION_CLOSED", "SURVEY_NO_QUESTIONNAIRE",
        description="本设备本季度已作答，或机构已关闭")
@raises(422, "SURVEY_ANSWERS_INVALID", "SURVEY_COMMENT_INVALID", "SURVEY_COMMENT_TOO_LONG", "SURVEY_FORM_EXPIRED",
        "SURVEY_FORM_INVALID", description="未答完、答案无效、意见过长，或表单令牌无效/过期")
def post_answer(body, public_id):
    """Submit one anonymous answer sheet: counted, held for review (a burst), or not counted (staff)."""
    response, _device = web.answer(public_id, answers=body["answers"], comment=body["comment"], token=body["token"])
    return {"status": response.status, "counted": response.status == "counted",
            "message": web.OUTCOMES[response.status], "quarter": response.quarter,
            "comment_screened": bool(response.comment_screened)}


@blp.route("/surveys/staff-device", methods=["POST"])
@blp.doc(operationId="markStaffDevice")
@login_required()
@blp.response(200, s.SurveyStaffDeviceSchema)
def staff_device():
    """Mark this browser as a staff device (any signed-in account): its survey answers are never counted.
    Staff front ends call it after login."""
    device = web.current_device()
    marked = Device(id=device.id, staff=True)
    response = current_app.json.response({"staff": True})
    web.set_device_cookie(response, marked)
    return response


@blp.route("/surveys/results", methods=["GET"])
@blp.doc(operationId="listSurveyResults")
@login_required(OFFICE)
@blp.arguments(s.SurveyResultArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, RESULT_PAGE)
@raises(404, "INSTITUTION_NOT_FOUND")
@raises(422, "REGION_OUT_OF_SCOPE")
def list_results(args, paging):
    """Results per institution and quarter in the office's region (trends: one institution over quarters),
    with held, discarded and staff counts."""
    page = paginate(results.office_results(current_user(), **args), paging["page"], paging["per_page"])
    return jsonify(already_dumped(RESULT_PAGE, {**page, "items": results.views_with_names(page["items"],
                                                                                            config=_cfg())}))


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@blp.route("/surveys/results.csv", methods=["GET"])
@blp.doc(operationId="exportSurveyResultsCsv")
@login_required(OFFICE)
@blp.arguments(s.SurveyResultArgsSchema, location="query")
@blp.response(200, description="UTF-8（带 BOM）CSV；单元格已防公式注入")
@media_types(200, "text/csv")
@raises(404, "INSTITUTION_NOT_FOUND")
@raises(422, "REGION_OUT_OF_SCOPE")
def results_csv(args):
    """The same results as CSV for Excel (no paging, at most 50,000 rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(results.CSV_COLUMNS)
    batch: list = []

    def flush():
        for row in results.csv_rows(results.views_with_names(batch, config=_cfg())):
            writer.writerow([_csv_cell(v) for v in row])
        batch.clear()

    for result in results.office_results(current_user(), **args).limit(50000):
        batch.append(result)
        if len(batch) == 500:  # names read 500 institutions at a time
            flush()
    flush()
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return Response(body, content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": "attachment; filename=\"survey-results.csv\"; filename*=UTF-8''manyidu.csv",
        "Cache-Control": "private, no-store"})


@blp.route("/surveys/responses", methods=["GET"])
@blp.doc(operationId="listSurveyResponses")
@login_required(OFFICE)
@blp.arguments(s.SurveyResponseArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, RESPONSE_PAGE)
@raises(404, "INSTITUTION_NOT_FOUND", description="机构不存在或不在本辖区")
def list_responses(args, paging):
    """Answer sheets of the region with their (screened) comments, newest first; ``status=held`` lists
    the answers held as a burst, for review. Comments are for the office only."""
    page = paginate(service.responses(current_user(), **args), paging["page"], paging["per_page"])
    return jsonify(already_dumped(RESPONSE_PAGE, {**page, "items": [service.response_view(r) for r in page["items"]]}))


@blp.route("/surveys/responses/<response_id>/review", methods=["POST"])
@blp.doc(operationId="reviewSurveyResponse")
@login_required(OFFICE)
@blp.arguments(s.SurveyReviewInputSchema)
@blp.response(200, s.SurveyResponseSchema)
@raises(404, "SURVEY_RESPONSE_NOT_FOUND")
@raises(409, "SURVEY_RESPONSE_NOT_HELD", description="答卷未被暂扣或已审核")
def review_response(body, response_id):
    """Count or discard an answer held as part of a burst."""
    return service.response_view(service.review(current_user(), response_id, decision=body["decision"],
                                                now=utcnow()))
