"""Quarterly satisfaction surveys (满意度测评): the questionnaire of an institution, answers, bursts, review.

Plain functions with explicit ``now``; they raise DomainError subclasses.
Results, publication thresholds, trends and the quarter's risk feedback are
in :mod:`~inspect_api.surveys.results`; the device cookie in
:mod:`~inspect_api.surveys.device`.

Counting rules (config ``[surveys]``):

* one answer per device, institution and quarter (a unique index over the
  keyed device hash; a second answer is 409 and stores nothing);
* answers from staff (a signed-in account, or a device marked as staff) are
  kept as ``staff`` and never counted;
* a burst — more than ``burst_max_per_address`` answers from one address, or
  more than ``burst_max_per_device`` from one device, within
  ``burst_window_minutes`` — is held for review: the answer that makes the
  burst and the burst's earlier counted answers become ``held``, leave the
  result, and are shown to the office, which counts or discards each;
* the comment is screened for ID-card, phone numbers and e-mail addresses
  (``inspect_api.redaction``) before it is stored, and is never public.

A closed institution takes no answers (409).  The per-address budget of the
answering endpoints (``[surveys] rate_limit``) is enforced by flask-limiter
in the routes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.batched import Read
from inspect_api import config as inspect_config
from inspect_api.directory.institutions import get_institution_by_public_id, institution_in_scope
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.redaction import redact
from inspect_api.scoping import in_scope, region_range
from inspect_api.surveys.device import keyed_hash
from inspect_api.surveys.models import SurveyResponse, SurveyResult
from inspect_api.workdays import business_date
from inspect_api.db import by_id
from inspect_api.clock import isoformat
from inspect_api.dumped import number, text

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"publish_min_answers": 10, "low_mean": 3.0, "burst_window_minutes": 10,
                            "burst_max_per_address": 5, "burst_max_per_device": 3, "rate_limit": "30 per hour",
                            "device_cookie_days": 400}


def settings(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``[surveys]`` table of the configuration over :data:`DEFAULTS`."""
    return inspect_config.section("surveys", DEFAULTS, cfg)


# --------------------------------------------------------------------------- quarters

def quarter_of(now: datetime) -> str:
    """The quarter of ``now``'s business date (Asia/Shanghai), e.g. ``2026Q4``."""
    day = business_date(now)
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_label(quarter: str) -> str:
    return f"{quarter[:4]}年第{quarter[-1]}季度"


# --------------------------------------------------------------------------- the questionnaire

CLOSED = "该机构已关闭，不再接受满意度测评"
NO_QUESTIONNAIRE = "该类型机构暂无满意度测评问卷"


def institution_for_survey(public_id: str):
    """The institution of a poster's public id; 404 unknown, 409 closed."""
    institution = get_institution_by_public_id(public_id)
    if institution is None:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    if institution.status == "closed":
        raise Conflict(CLOSED, code="SURVEY_INSTITUTION_CLOSED")
    return institution


def questionnaire_for(institution):
    """The published questionnaire of the institution's kind; 409 when there is none."""
    from inspect_api.catalog import questionnaires

    version = questionnaires.for_kind(institution.kind)
    if version is None:
        raise Conflict(NO_QUESTIONNAIRE, code="SURVEY_NO_QUESTIONNAIRE", details={"kind": institution.kind})
    return version


def survey_open_read(institution) -> Read:
    """The read behind :func:`survey_refusal_from`: a published questionnaire for the institution's kind."""
    from inspect_api.catalog import questionnaires

    return questionnaires.published_for_kind_read(institution.kind)


def survey_refusal_from(institution, rows: list[dict] | None) -> str | None:
    """Why the institution's survey takes no answers now, as its page says it (closed, or no questionnaire for
    its kind: ``rows`` of :func:`survey_open_read`); None when it takes them.  Pages that would link to the
    survey show this instead."""
    if institution.status == "closed":
        return CLOSED
    return None if rows else NO_QUESTIONNAIRE


def already_answered(institution, device_id: str, secret: str, now: datetime) -> bool:
    device_hash = keyed_hash(secret, "device", device_id)
    return SurveyResponse.objects(institution_id=str(institution.id), quarter=quarter_of(now),
                                  device_hash=device_hash).only("id").first() is not None


def _checked_answers(content: dict[str, Any], answers: Any) -> dict[str, int]:
    """Every question answered with an integer 1..5 and nothing else; 422 naming each problem."""
    if not isinstance(answers, dict):
        raise Unprocessable("答卷格式不正确", code="SURVEY_ANSWERS_INVALID", details={"fields": {"answers": ["应为对象"]}})
    ids = [str(q["id"]) for q in content["questions"]]
    problems: dict[str, list[str]] = {}
    for qid in ids:
        value = answers.get(qid)
        if value is None:
            problems[qid] = ["请选择满意程度"]
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems[qid] = ["应为 1–5 的整数"]
    for key in answers:
        if key not in ids:
            problems[str(key)[:64]] = ["问卷中没有该问题"]
    if problems:
        raise Unprocessable("还有问题未作答或答案无效", code="SURVEY_ANSWERS_INVALID", details={"fields": problems})
    return {qid: int(answers[qid]) for qid in ids}


def _checked_comment(content: dict[str, Any], comment: Any) -> tuple[str | None, bool]:
    """The comment with ID numbers, phone numbers and e-mail addresses removed, and whether any were."""
    if comment is None:
        return None, False
    if not isinstance(comment, str):
        raise Unprocessable("意见应为文字", code="SURVEY_COMMENT_INVALID")
    text = "".join(ch for ch in comment if ch in "\n\t" or ch.isprintable()).strip()
    limit = int(content["comment"]["max_length"])
    if len(text) > limit:
        raise Unprocessable(f"意见最多 {limit} 个字", code="SURVEY_COMMENT_TOO_LONG", details={"max_length": limit})
    if not text:
        return None, False
    screened = redact(text)
    return screened, screened != text


# --------------------------------------------------------------------------- answering

def _result_key(institution_id: str, quarter: str) -> str:
    return f"{institution_id}:{quarter}"


def _bump(response: SurveyResponse, *, counted: int = 0, held: int = 0, discarded: int = 0, staff: int = 0,
          questions: list[dict[str, Any]] | None = None, now: datetime) -> None:
    """Atomically move one answer into (counted=+1) or out of (-1) the result, and count the others."""
    inc: dict[str, int] = {}
    if counted:
        inc["count"] = counted
        for qid, value in response.answers.items():
            inc[f"sums.{qid}"] = counted * int(value)
            inc[f"dist.{qid}.{int(value)}"] = counted
        if response.comment:
            inc["comments"] = counted
    for key, value in (("held", held), ("discarded", discarded), ("staff", staff)):
        if value:
            inc[key] = value
    update = {"$inc": inc, "$set": {"updated_at": now},
              "$setOnInsert": {"institution_id": response.institution_id, "region": response.region,
                               "quarter": response.quarter, "questionnaire_code": response.questionnaire_code,
                               "questions": questions or [], "risk_evaluated": False}}
    coll = SurveyResult._get_collection()
    key = _result_key(response.institution_id, response.quarter)
    try:
        coll.update_one({"_id": key}, update, upsert=True)
    except DuplicateKeyError:  # two first answers of a quarter raced to create the result
        coll.update_one({"_id": key}, update, upsert=True)


def _hold_burst(field: str, value: str, since: datetime, reason: str, now: datetime) -> int:
    """Hold the counted answers of a burst (same address or device since ``since``); how many."""
    held = 0
    for earlier in SurveyResponse.objects(**{field: value}, created_at__gte=since, status="counted"):
        if SurveyResponse.objects(id=earlier.id, status="counted").update_one(set__status="held",
                                                                             set__hold_reason=reason):
            _bump(earlier, counted=-1, held=1, now=now)
            held += 1
    return held


def submit(public_id: str, *, answers: Any, comment: Any, device_id: str, staff: bool, address: str | None,
           secret: str, now: datetime, config: dict[str, Any] | None = None) -> SurveyResponse:
    """Store one anonymous answer sheet; counted, held (burst) or kept as staff.  409 on a second answer."""
    cfg = settings(config)
    institution = institution_for_survey(public_id)
    version = questionnaire_for(institution)
    content = version.content
    checked = _checked_answers(content, answers)
    text, screened = _checked_comment(content, comment)
    quarter = quarter_of(now)
    device_hash = keyed_hash(secret, "device", device_id)
    address_hash = keyed_hash(secret, "address", quarter, address or "unknown")
    since = now - timedelta(minutes=int(cfg["burst_window_minutes"]))
    status, reason = "counted", None
    if staff:
        status = "staff"
    elif SurveyResponse.objects(address_hash=address_hash, created_at__gte=since).count() + 1 \
            > int(cfg["burst_max_per_address"]):
        status, reason = "held", "address_burst"
    elif SurveyResponse.objects(device_hash=device_hash, created_at__gte=since).count() + 1 \
            > int(cfg["burst_max_per_device"]):
        status, reason = "held", "device_burst"
    response = SurveyResponse(institution_id=str(institution.id), region=institution.region, quarter=quarter,
                              questionnaire_code=version.code, questionnaire_version=version.version,
                              answers=checked, comment=text, comment_screened=screened, status=status,
                              hold_reason=reason, device_hash=device_hash, address_hash=address_hash,
                              created_at=now)
    try:
        response.save(force_insert=True)
    except NotUniqueError:
        raise Conflict("本设备本季度已对该机构作过评价，感谢参与", code="SURVEY_ALREADY_ANSWERED") from None
    questions = [{"id": str(q["id"]), "text": q["text"]} for q in content["questions"]]
    if status == "counted":
        _bump(response, counted=1, questions=questions, now=now)
    else:
        _bump(response, held=int(status == "held"), staff=int(status == "staff"), questions=questions, now=now)
    if status == "held":
        field, value = ("address_hash", address_hash) if reason == "address_burst" else ("device_hash", device_hash)
        earlier = _hold_burst(field, value, since, reason, now)
        if earlier:
            audit.record("survey.burst_held", target_type="institution", target_id=str(institution.id),
                         region=institution.region, data={"quarter": quarter, "reason": reason,
                                                          "earlier_answers_held": earlier}, now=now)
    return response


# --------------------------------------------------------------------------- the office

def _require_office(user) -> None:
    if getattr(user, "role", None) != "office_admin":
        raise NotFound("答卷不存在", code="SURVEY_RESPONSE_NOT_FOUND")


def responses(user, *, institution_id: str | None = None, quarter: str | None = None, status: str | None = None):
    """Answer sheets with their comments, for offices: one institution's newest first, or the region's by
    region and then newest first (``status=held``: the bursts to review).  Index-served sorts."""
    _require_office(user)
    if institution_id:
        institution = institution_in_scope(user, institution_id)
        query = SurveyResponse.objects(institution_id=str(institution.id))
        order = ("-created_at", "-id")
    else:
        query = SurveyResponse.objects(region=region_range(user.region))
        order = ("region", "-created_at", "-id")
    if status:
        query = query.filter(status=status)
    if quarter:
        query = query.filter(quarter=quarter)
    return query.order_by(*order)


def review(user, response_id: str, *, decision: str, now: datetime) -> SurveyResponse:
    """Count or discard a held answer (office of its region)."""
    _require_office(user)
    response = by_id(SurveyResponse, response_id)
    if response is None or not in_scope(user.region, response.region):
        raise NotFound("答卷不存在", code="SURVEY_RESPONSE_NOT_FOUND")
    if response.status != "held":
        raise Conflict("只能审核被暂扣的答卷", code="SURVEY_RESPONSE_NOT_HELD", details={"status": response.status})
    target = "counted" if decision == "count" else "discarded"
    if not SurveyResponse.objects(id=response.id, status="held").update_one(
            set__status=target, set__reviewed_at=now, set__reviewed_by=str(user.id)):
        raise Conflict("答卷已被他人审核", code="SURVEY_RESPONSE_NOT_HELD")
    response.reload()
    if target == "counted":
        _bump(response, counted=1, held=-1, now=now)
    else:
        _bump(response, held=-1, discarded=1, now=now)
    audit.record("survey.response_reviewed", actor=actor_of(user), target_type="survey_response",
                 target_id=str(response.id), region=response.region,
                 data={"decision": target, "institution_id": response.institution_id, "quarter": response.quarter},
                 now=now)
    return response


def response_view(response: SurveyResponse) -> dict[str, Any]:
    """An answer sheet in ``SurveyResponseSchema``'s dumped form (the office's list sends it as it is)."""
    return {"id": str(response.id), "institution_id": text(response.institution_id), "region": text(response.region),
            "quarter": text(response.quarter), "questionnaire_code": text(response.questionnaire_code),
            "questionnaire_version": number(response.questionnaire_version, int),
            "answers": {str(key): number(value, int) for key, value in (response.answers or {}).items()},
            "comment": text(response.comment), "comment_screened": bool(response.comment_screened),
            "status": text(response.status), "hold_reason": text(response.hold_reason),
            "created_at": isoformat(response.created_at), "reviewed_at": isoformat(response.reviewed_at)}
