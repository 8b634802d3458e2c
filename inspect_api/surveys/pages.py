"""The public survey page (``/p/institutions/<public_id>/survey``): reached from the poster's QR code.

Phone first (390 px), Chinese, large type, no login and no script: a plain
form of radio buttons posted back to the same address.  The page parses the
form and calls the same function as the JSON API (:func:`web.answer`); every
rule (one answer per device and quarter, bursts, staff, comment screening,
closed institutions) is the service's.  Responses are never cached: the form
carries a token bound to the reader's device cookie.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from inspect_api import qrcodes
from inspect_api.clock import utcnow
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.errors import DomainError
from inspect_api.urls import public_base_url
from inspect_api.surveys import service, web

blp = Blueprint("survey_pages", __name__, url_prefix="/p")
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _qr(public_id: str):
    return qrcodes.svg(f"{public_base_url()}/p/institutions/{public_id}/survey")


def _error(status: int, title: str, message: str, public_id: str):
    response = make_response(render_template("surveys/message.html", title=title, message=message, ok=False,
                                             public_id=public_id, page_qr=_qr(public_id)), status)
    response.headers.update(HEADERS)
    return response


@blp.errorhandler(429)
def _too_many(exc):
    public_id = (request.view_args or {}).get("public_id", "")
    return _error(429, "提交过于频繁", "同一网络地址提交过于频繁，请稍后再试。", public_id)


def _form(public_id: str, *, values: dict | None = None, problems: dict | None = None, comment: str = "",
          status: int = 200):
    try:
        institution = service.institution_for_survey(public_id)
        version = service.questionnaire_for(institution)
    except DomainError as exc:
        title = "页面不存在" if exc.status == 404 else "暂不能评价"
        return _error(exc.status, title, exc.message, public_id)
    device = web.current_device()
    quarter = service.quarter_of(utcnow())
    response = make_response(render_template(
        "surveys/form.html", inst=institution, kind_name=INSTITUTION_KINDS.get(institution.kind, ""),
        q=version.content, quarter_label=service.quarter_label(quarter),
        answered=web.already_answered(institution, device), token=web.form_token(device, institution.public_id),
        values=values or {}, problems=problems or {}, comment=comment, page_qr=_qr(public_id)), status)
    response.headers.update(HEADERS)
    if device.new:
        web.set_device_cookie(response, device)
    return response


@blp.get("/institutions/<public_id>/survey")
@web.public_budget
def survey(public_id: str):
    return _form(public_id)


def _parsed_answers() -> dict:
    out = {}
    for key, raw in request.form.items():
        if key.startswith("q_"):
            out[key[2:]] = int(raw) if raw.isdigit() and len(raw) == 1 else raw
    return out


@blp.post("/institutions/<public_id>/survey")
@web.answer_budget
def answer(public_id: str):
    answers = _parsed_answers()
    comment = request.form.get("comment", "")
    try:
        response, _device = web.answer(public_id, answers=answers, comment=comment or None,
                                       token=request.form.get("token"))
    except DomainError as exc:
        if exc.code == "SURVEY_ANSWERS_INVALID":
            problems = {k: v[0] for k, v in (exc.details.get("fields") or {}).items()}
            return _form(public_id, values=answers, problems=problems, comment=comment, status=422)
        if exc.code == "SURVEY_ALREADY_ANSWERED":
            return _error(409, "您本季度已评价过", exc.message, public_id)
        return _error(exc.status, "提交未成功", exc.message, public_id)
    page = make_response(render_template(
        "surveys/message.html", title="提交成功" if response.status == "counted" else "已收到您的答卷",
        message=web.OUTCOMES[response.status], ok=True, screened=bool(response.comment_screened),
        public_id=public_id, page_qr=_qr(public_id)), 201)
    page.headers.update(HEADERS)
    return page
