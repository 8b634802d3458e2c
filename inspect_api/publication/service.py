"""Publishing inspection results, tracking the publication deadline, notices of problems (问题通报).

Plain functions with explicit ``now`` and acting user; they raise DomainError
subclasses.  Offices (``office_admin``) act inside their region subtree; an
id out of scope answers 404.  Every state change appends an audit event.

* :func:`preview` returns exactly what :func:`publish` freezes: the public
  snapshot (redacted; photos only when chosen by id) and the live
  rectification status that public pages read at render time.
* :func:`sweep_publication_deadlines` escalates unpublished results through
  the same ladder as rectification deadlines (the configured ``[[ladder]]``,
  :func:`publication_ladder`), each step exactly once.
* Notices are drafted from findings (overdue / pre-selected ones selected by
  default), edited while drafts, published with a number per office and year
  (〔2027〕3号) and retracted only with a public reason.

Other modules are reached through the small adapters at the top.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Iterable

from bson import ObjectId
from bson.errors import InvalidId
from mongoengine.errors import NotUniqueError

from inspect_api import db, vocabulary
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, as_utc, isoformat
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.publication.models import (NOTICE_STATUSES, Notice, NoticeCounter, NoticeItem,
                                            PublicationDeadline, PublishedResult, StepRecord)
from inspect_api.publication.redaction import mask_everywhere, normalize_terms, redact
from inspect_api.rectification.ladder import Ladder, LadderStep
from inspect_api.scoping import in_scope, is_region_code, prefix_range, region_range
from inspect_api.workdays import business_date

log = logging.getLogger(__name__)

# Labels come from the one vocabulary (inspect_api.vocabulary); views map codes to names when they are read,
# so results published before a wording change read like everything else.
DEFAULT_DEADLINE_DAYS = 20

# The publication deadline is escalated through the rectification ladder (``[[ladder]]``): the same steps at
# the same working-day offsets, counted from the publication deadline.  A result has no institution or lead
# inspector to remind, so their places go to the office of the inspection's region.
RECIPIENT_OFFICES = {"institution": "county_office", "lead_inspector": "county_office",
                     "county_office": "county_office", "department": "department",
                     "leadership_office": "leadership_office"}
PUBLICATION_TITLES = {"reminder": "检查结果公开期限临近提醒", "warning": "检查结果逾期未公开警示",
                      "department": "检查结果逾期未公开，升级至主管部门",
                      "office": "检查结果逾期未公开，升级至领导小组办公室"}
OFFICE_RECIPIENTS = ("county_office", "department", "leadership_office")

TEMPLATES = {
    "publication.reminder": ("检查结果公开期限临近：{code}",
                             "{institution_name} 的检查（{code}）结果应于 {deadline} 前公开，距到期已不超过 {days} 个工作日，请尽快审核发布。"),
    "publication.warning": ("检查结果逾期未公开：{code}",
                            "{institution_name} 的检查（{code}）结果已超过公开期限（{deadline}）仍未公开，请立即发布。"),
    "publication.department": ("检查结果逾期未公开，升级至主管部门：{code}",
                               "{institution_name} 的检查（{code}）结果逾期已达 {days} 个工作日仍未公开（期限 {deadline}），请主管部门督办。"),
    "publication.office": ("检查结果逾期未公开，升级至领导小组办公室：{code}",
                           "{institution_name} 的检查（{code}）结果逾期已达 {days} 个工作日仍未公开（期限 {deadline}）。"),
    "publication.step": ("{step_title}：{code}", "{institution_name} 的检查（{code}），公开期限 {deadline}：{step_title}。"),
}


def _scope_range(region: str) -> dict[str, str]:
    """Index-served range of a region filter: a division code's subtree, or a raw code prefix."""
    return region_range(region) if is_region_code(region) else prefix_range(region)


# --------------------------------------------------------------------------- adapters to other modules

def _register_templates() -> None:
    """Add the publication message templates to the notify module's table (keys ``publication.*`` only)."""
    from inspect_api.notify import templates

    for kind, pair in TEMPLATES.items():
        templates.TEMPLATES.setdefault(kind, pair)


_register_templates()


def _inspection_model():
    from inspect_api.inspections.models import Inspection

    return Inspection


def _assignment(inspection_id: str):
    from inspect_api.inspections.models import Assignment

    return Assignment.objects(id=_oid(inspection_id)).first()


def _institution(institution_id: str):
    from inspect_api.directory import service as directory

    return directory.get_institution(institution_id)


def _institution_by_public_id(public_id: str):
    from inspect_api.directory import service as directory

    return directory.get_institution_by_public_id(public_id)


def _kinds() -> dict[str, str]:
    from inspect_api.directory.models import INSTITUTION_KINDS

    return INSTITUTION_KINDS


def region_names() -> dict[str, str]:
    from inspect_api.directory import service as directory

    try:
        return directory.region_names()
    except Exception:  # noqa: BLE001 - names are decoration; codes still work
        return {}


def _team(team: list[str]) -> list[dict[str, Any]]:
    from inspect_api.inspections import records

    return [{"role": t["role"], "name": t["name"], "certificate_no": t["certificate_no"],
             "department": t["department"]} for t in records.team_view(list(team))]


def _departments() -> dict[str, str]:
    from inspect_api.directory.models import DEPARTMENTS

    return DEPARTMENTS


def _matters(inspection) -> list[dict[str, Any]]:
    from inspect_api.catalog import service as catalog

    assignment = _assignment(str(inspection.id))
    codes = list(getattr(assignment, "matters", None) or [])
    out = []
    for code in codes:
        matter = catalog.get_matter(code)
        out.append({"code": code, "name": matter.name if matter else code})
    if not out:
        for matter in catalog.list_matters(active=True):
            if matter.checklist_code == inspection.checklist_code:
                out.append({"code": matter.code, "name": matter.name})
                break
    if not out:
        out.append({"code": None, "name": f"依据 {inspection.checklist_code} 开展的医养结合服务质量检查"})
    return out


def _findings_of_order(order_id: str | None) -> list:
    if not order_id:
        return []
    from inspect_api.rectification.models import Finding

    return list(Finding.objects(order_id=str(order_id)).order_by("seq"))


def _order(order_id: str | None):
    if not order_id:
        return None
    from inspect_api.rectification.models import Order

    oid = _oid(order_id)
    return Order.objects(id=oid).first() if oid else None


def _calendar():
    from inspect_api.calendar.service import current_calendar

    return current_calendar()


def _recipients(role: str, tracker: PublicationDeadline) -> list[str]:
    from inspect_api.rectification import service as rectification

    if role not in OFFICE_RECIPIENTS:
        return []
    return rectification.recipients(role, SimpleNamespace(region=tracker.region, institution_id=tracker.institution_id,
                                                          lead_inspector_id=None))


def _notify(users, **kwargs):
    from inspect_api.notify import service as notify

    return notify.notify(users, **kwargs)


def _config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    if cfg is not None:
        return cfg
    try:
        from flask import current_app

        return current_app.config["INSPECT"]
    except RuntimeError:
        from inspect_api.config import load_config

        return load_config()


# --------------------------------------------------------------------------- helpers

def _oid(value: Any) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def _d(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def _require_office(user) -> None:
    if getattr(user, "role", None) != "office_admin":
        raise NotFound("资源不存在")


def deadline_days(cfg: dict[str, Any] | None = None) -> int:
    return int(_config(cfg).get("publication_deadline_working_days") or DEFAULT_DEADLINE_DAYS)


def _publication_title(step: LadderStep) -> str:
    if step.code in PUBLICATION_TITLES:
        return PUBLICATION_TITLES[step.code]
    days = abs(step.offset_working_days)
    if step.offset_working_days < 0:
        return f"检查结果公开期限临近提醒（到期前 {days} 个工作日）"
    if step.offset_working_days == 0:
        return "检查结果今日到期，尚未公开"
    return f"检查结果逾期 {days} 个工作日仍未公开"


@lru_cache(maxsize=32)
def _derived_ladder(source: Ladder) -> Ladder:
    return Ladder(tuple(LadderStep(code=st.code, offset_working_days=st.offset_working_days,
                                   recipients=tuple(dict.fromkeys(RECIPIENT_OFFICES[r] for r in st.recipients)),
                                   title=_publication_title(st))
                        for st in source.steps))


def publication_ladder(cfg: dict[str, Any] | None = None) -> Ladder:
    """The publication deadline's ladder, derived from the configured rectification ladder (``[[ladder]]``):
    same codes and offsets, recipients mapped to offices (:data:`RECIPIENT_OFFICES`), publication titles, no
    notice pre-selection (there is no finding to cite)."""
    from inspect_api.rectification import service as rectification

    return _derived_ladder(rectification.ladder(_config(cfg)))


# --------------------------------------------------------------------------- publishing results

def inspection_in_scope(user, inspection_id: str):
    """The inspection, for an office of its region (404 otherwise, and for unknown ids)."""
    _require_office(user)
    oid = _oid(inspection_id)
    inspection = _inspection_model().objects(id=oid).first() if oid else None
    if inspection is None or not in_scope(user.region, inspection.region):
        raise NotFound("检查记录不存在", code="INSPECTION_NOT_FOUND")
    return inspection


def _require_submitted(inspection) -> None:
    if inspection.state != "submitted":
        raise Conflict("检查尚未提交，不能公开结果", code="INSPECTION_NOT_SUBMITTED",
                       details={"state": inspection.state})


def available_photos(inspection) -> list[str]:
    return [str(p) for f in inspection.findings or [] for p in (f.get("photo_ids") or [])]


def _check_photos(inspection, photo_ids: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(p) for p in photo_ids or []))
    allowed = set(available_photos(inspection))
    unknown = [p for p in chosen if p not in allowed]
    if unknown:
        raise Unprocessable("所选照片不属于本次检查发现的问题", code="PHOTO_NOT_IN_INSPECTION",
                            details={"photo_ids": unknown})
    return chosen


# Snapshot keys holding identifiers, codes and dates: office redaction terms never rewrite them.
SNAPSHOT_KEEP = frozenset({"inspection_id", "code", "public_id", "kind", "region", "inspected_on", "concluded_at",
                           "role", "department", "checklist_code", "grade", "item_id", "severity", "result",
                           "photo_ids", "date"})


def redaction_choices(redact_terms: Iterable[str] | None, include_notes: bool) -> tuple[list[str], bool]:
    """The office's redaction choices, checked (bounded number and length of terms)."""
    try:
        terms = normalize_terms(redact_terms)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="REDACT_TERMS_INVALID") from None
    return terms, bool(include_notes)


def _chosen_snapshot(inspection, photo_ids: Iterable[str], redact_terms: Iterable[str], include_notes: bool):
    """The office's choices checked, and the snapshot they give: (snapshot, photo ids, terms, include_notes)."""
    chosen = _check_photos(inspection, photo_ids)
    terms, include_notes = redaction_choices(redact_terms, include_notes)
    return build_snapshot(inspection, chosen, redact_terms=terms, include_notes=include_notes), chosen, terms, \
        include_notes


def build_snapshot(inspection, photo_ids: list[str], *, redact_terms: list[str] | None = None,
                   include_notes: bool = False) -> dict[str, Any]:
    """The frozen public content of an inspection's result.

    Redacted by the rules of :mod:`~inspect_api.publication.redaction`, then
    every term the office chose is masked everywhere (``张秀英`` → ``张**``);
    free-text finding notes only when ``include_notes``; chosen photos only.
    """
    institution = _institution(inspection.institution_id)
    regions = region_names()
    kinds = _kinds()
    result = dict(inspection.result or {})
    concluded = inspection.submitted_at or inspection.submission_started_at
    departments = _departments()
    team = [{**t, "department_name": departments.get(t.get("department") or "", t.get("department"))}
            for t in _team(list(inspection.team))]
    chosen = set(photo_ids)
    findings = []
    for seq, f in enumerate(inspection.findings or [], start=1):
        findings.append({
            "seq": seq, "item_id": f.get("item_id"), "item_text": redact(f.get("item_text")),
            "clause": redact(f.get("clause")), "severity": f.get("severity"),
            "severity_name": vocabulary.severity_name(f.get("severity")),
            "result": f.get("result"), "result_name": vocabulary.result_name(f.get("result")),
            "veto": bool(f.get("veto")),
            "deductions": [redact(d.get("text")) for d in f.get("deductions") or [] if d.get("text")],
            "points_lost": f.get("points_lost"), "note": redact(f.get("note")) if include_notes else None,
            "photo_ids": [p for p in f.get("photo_ids") or [] if p in chosen],
        })
    grade = result.get("grade")
    veto_ids = list(result.get("veto_failed") or []) or [f["item_id"] for f in findings if f["veto"]]
    by_item = {f["item_id"]: f for f in findings}
    veto_failed = [{"item_id": i, "item_text": (by_item.get(i) or {}).get("item_text") or i,
                    "problems": list((by_item.get(i) or {}).get("deductions") or [])} for i in veto_ids]
    snapshot = {
        "inspection_id": str(inspection.id), "code": inspection.code,
        "institution": {
            "public_id": getattr(institution, "public_id", None), "name": getattr(institution, "name", None),
            "kind": getattr(institution, "kind", None),
            "kind_name": kinds.get(getattr(institution, "kind", "") or "", ""),
            "region": inspection.region, "region_name": regions.get(inspection.region, inspection.region),
            "address": getattr(institution, "address", None)},
        "inspected_on": business_date(as_utc(concluded)).isoformat() if concluded else None,
        "concluded_at": isoformat(concluded),
        "matters": _matters(inspection),
        "team": team,
        "checklist_code": inspection.checklist_code,
        "score": result.get("score"), "grade": grade,
        "grade_name": vocabulary.grade_name(grade) if grade else result.get("grade_name"),
        "veto_failed": veto_failed,
        "findings": findings,
        "finding_count": len(findings),
        "corrections": [{"date": business_date(as_utc(c.at)).isoformat(), "reason": redact(c.reason),
                         "score_before": c.score_before, "score_after": c.score_after}
                        for c in inspection.corrections or []],
    }
    return mask_everywhere(snapshot, list(redact_terms or []), keep=SNAPSHOT_KEEP)


def rectification_status(order_id: str | None, *, today: date | None = None) -> dict[str, Any]:
    """Live rectification progress of an order, by finding seq (read at render time)."""
    order = _order(order_id)
    return _status(order, _findings_of_order(order_id) if order is not None else [])


def rectification_statuses(order_ids: list[str | None]) -> dict[str, dict[str, Any]]:
    """:func:`rectification_status` for many orders in two queries (list pages)."""
    from inspect_api.rectification.models import Finding, Order

    oids = [oid for oid in (_oid(o) for o in order_ids if o) if oid]
    orders = {str(o.id): o for o in Order.objects(id__in=oids).only("number", "status")}
    findings: dict[str, list] = {key: [] for key in orders}
    wanted = ("order_id", "seq", "status", "overdue", "deadline", "item_id")
    for f in Finding.objects(order_id__in=list(orders)).only(*wanted).order_by("order_id", "seq"):
        findings[f.order_id].append(f)
    return {key: _status(order, findings[key]) for key, order in orders.items()}


def _status(order, findings: list) -> dict[str, Any]:
    by_seq = {}
    counts = {"total": 0, "accepted": 0, "open": 0, "overdue": 0, "withdrawn": 0}
    for f in findings:
        status = f.status
        overdue = bool(f.overdue) and status != "accepted"
        by_seq[f.seq] = {"status": status, "status_name": vocabulary.finding_status_name(status),
                         "deadline": _d(f.deadline).isoformat() if f.deadline else None, "overdue": overdue,
                         "item_id": f.item_id}
        if status == "withdrawn":  # a correction of the record removed it: nothing is owed
            counts["withdrawn"] += 1
            continue
        counts["total"] += 1
        counts["accepted" if status == "accepted" else "open"] += 1
        counts["overdue"] += int(overdue)
    if order is None or counts["total"] == 0:
        summary = "无需整改"
    elif counts["open"] == 0:
        summary = "已全部整改"
    elif counts["overdue"]:
        summary = f"整改中（{counts['overdue']} 项逾期）"
    else:
        summary = "整改中"
    return {"order_number": order.number if order else None, "order_status": order.status if order else None,
            "summary": summary, "counts": counts, "findings": by_seq}


def merge_status(snapshot: dict[str, Any], status: dict[str, Any]) -> list[dict[str, Any]]:
    """The snapshot's findings with their live rectification status, matched by checklist item
    (the order's numbering differs from the snapshot's once a correction withdrew or added findings).
    Labels are read from the vocabulary by code, whatever wording the snapshot was frozen with."""
    out = []
    by_item = {v.get("item_id"): v for v in status["findings"].values() if v.get("status") != "withdrawn"}
    for f in snapshot.get("findings") or []:
        live = by_item.get(f.get("item_id")) or {}
        out.append({**f, "severity_name": vocabulary.severity_name(f.get("severity")),
                    "result_name": vocabulary.result_name(f.get("result")), "veto": bool(f.get("veto")),
                    "rectification": {k: live.get(k) for k in ("status", "status_name", "deadline", "overdue")}
                    if live else None})
    return out


def veto_failed(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The veto items (一票否决项) a result failed: ``[{item_id, item_text, problems}]``."""
    if snapshot.get("veto_failed") is not None:
        return list(snapshot["veto_failed"])
    return [{"item_id": f.get("item_id"), "item_text": f.get("item_text"), "problems": list(f.get("deductions") or [])}
            for f in snapshot.get("findings") or [] if f.get("veto")]


def grade_reason(grade: str | None, vetoes: list[dict[str, Any]]) -> str | None:
    """Why a result is 不合格 whatever its points, in words a resident understands (None when the score
    alone decides the grade)."""
    if not vetoes:
        return None
    items = "；".join(f"“{v['item_text']}”" + (f"（{'；'.join(v['problems'])}）" if v.get("problems") else "")
                     for v in vetoes)
    return (f"以下一票否决项不符合要求：{items}。一票否决项是机构合法执业和老年人安全的底线要求，"
            f"只要有一项不符合，检查结论即为“{vocabulary.grade_name(grade or 'fail')}”，与得分高低无关。")


def preview(user, inspection_id: str, *, photo_ids: Iterable[str] = (), redact_terms: Iterable[str] = (),
            include_notes: bool = False, now: datetime, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Exactly what :func:`publish` with the same choices would make public, plus the deadline and the photos
    that could be chosen."""
    inspection = inspection_in_scope(user, inspection_id)
    _require_submitted(inspection)
    snapshot, chosen, terms, include_notes = _chosen_snapshot(inspection, photo_ids, redact_terms, include_notes)
    tracker = ensure_tracker(inspection, now=now, config=config)
    status = rectification_status(inspection.order_id)
    published = PublishedResult.objects(inspection_id=str(inspection.id)).only("id").first()
    return {"snapshot": snapshot, "findings": merge_status(snapshot, status),
            "rectification": {k: status[k] for k in ("order_number", "summary", "counts")},
            "photo_ids": chosen, "available_photo_ids": available_photos(inspection),
            "include_notes": include_notes, "redact_terms_count": len(terms),
            "deadline": _d(tracker.deadline).isoformat(), "published": published is not None,
            "published_id": str(published.id) if published else None}


def publish(user, inspection_id: str, *, photo_ids: Iterable[str] = (), redact_terms: Iterable[str] = (),
            include_notes: bool = False, now: datetime, config: dict[str, Any] | None = None) -> PublishedResult:
    """Freeze and publish an inspection's result (once; a second call answers 409).

    The redaction choices are stored with the result (never shown publicly),
    so a correction of the inspection record refreshes it the same way.
    """
    inspection = inspection_in_scope(user, inspection_id)
    _require_submitted(inspection)
    if PublishedResult.objects(inspection_id=str(inspection.id)).only("id").first() is not None:
        raise Conflict("该检查结果已经公开", code="ALREADY_PUBLISHED")
    snapshot, chosen, terms, include_notes = _chosen_snapshot(inspection, photo_ids, redact_terms, include_notes)
    tracker = ensure_tracker(inspection, now=now, config=config)
    institution = _institution(inspection.institution_id)
    concluded = inspection.submitted_at or inspection.submission_started_at
    deadline = _d(tracker.deadline)
    result = PublishedResult(
        inspection_id=str(inspection.id), code=inspection.code, institution_id=inspection.institution_id,
        institution_public_id=getattr(institution, "public_id", None),
        institution_kind=getattr(institution, "kind", None), region=inspection.region,
        inspected_on=business_date(as_utc(concluded)), concluded_at=concluded, grade=snapshot["grade"],
        score=snapshot["score"], order_id=inspection.order_id, snapshot=snapshot, photo_ids=chosen,
        redact_terms=terms, include_notes=include_notes, published_at=now, published_by=str(user.id), deadline=deadline,
        late=business_date(now) > deadline)
    try:
        result.save(force_insert=True)
    except NotUniqueError:
        raise Conflict("该检查结果已经公开", code="ALREADY_PUBLISHED") from None
    PublicationDeadline.objects(id=tracker.id, published_at=None).update_one(
        set__published_at=now, set__next_step_due=None)
    audit.record("publication.result_published", actor=actor_of(user), target_type="published_result",
                 target_id=str(result.id), region=result.region,
                 data={"inspection_id": str(inspection.id), "code": inspection.code, "photo_ids": chosen,
                       "redact_terms_count": len(terms), "include_notes": include_notes,
                       "deadline": deadline.isoformat(), "late": result.late}, now=now)
    return result


def revise(user, inspection_id: str, *, photo_ids: Iterable[str] = (), redact_terms: Iterable[str] = (),
           include_notes: bool = False, now: datetime) -> PublishedResult:
    """Change what a published result shows: the chosen photos, the masked terms, notes in or out.

    For an office that finds, after publishing, a resident's name or a photo
    that should not be public: the snapshot is rebuilt from the inspection
    with the new choices (the same body as publishing) and replaces the old
    one at once; the facts (score, grade, findings, dates) cannot change here.
    Audited with the counts, never the terms.
    """
    inspection = inspection_in_scope(user, inspection_id)
    result = PublishedResult.objects(inspection_id=str(inspection.id)).first()
    if result is None:
        raise Conflict("该检查结果尚未公开，请先发布", code="RESULT_NOT_PUBLISHED")
    snapshot, chosen, terms, include_notes = _chosen_snapshot(inspection, photo_ids, redact_terms, include_notes)
    PublishedResult.objects(id=result.id).update_one(
        set__snapshot=snapshot, set__photo_ids=chosen, set__redact_terms=terms, set__include_notes=include_notes,
        set__revised_at=now)
    audit.record("publication.result_revised", actor=actor_of(user), target_type="published_result",
                 target_id=str(result.id), region=result.region,
                 data={"inspection_id": str(inspection.id), "photo_ids": chosen, "redact_terms_count": len(terms),
                       "include_notes": include_notes}, now=now)
    result.reload()
    return result


# --------------------------------------------------------------------------- publication deadline

def ensure_tracker(inspection, *, now: datetime, config: dict[str, Any] | None = None) -> PublicationDeadline:
    """The publication-deadline tracker of a submitted inspection (created once)."""
    tracker = PublicationDeadline.objects(inspection_id=str(inspection.id)).first()
    if tracker is not None:
        return tracker
    concluded = as_utc(inspection.submitted_at or inspection.submission_started_at)
    calendar = _calendar()
    deadline = calendar.add_working_days(business_date(concluded), deadline_days(config))
    published = PublishedResult.objects(inspection_id=str(inspection.id)).only("published_at").first()
    tracker = PublicationDeadline(
        inspection_id=str(inspection.id), code=inspection.code, institution_id=inspection.institution_id,
        region=inspection.region, concluded_at=concluded, deadline=deadline,
        published_at=published.published_at if published else None,
        next_step_due=None if published else publication_ladder(config).next_due_date(deadline, [], calendar),
        created_at=now)
    try:
        tracker.save(force_insert=True)
    except NotUniqueError:
        tracker = PublicationDeadline.objects.get(inspection_id=str(inspection.id))
    return tracker


def on_inspection_submitted(inspection, now: datetime) -> None:
    """Submission hook: start the publication clock (idempotent)."""
    ensure_tracker(inspection, now=now)


def on_inspection_corrected(inspection, now: datetime) -> None:
    """Correction hook: a published result shows the corrected record, with the correction listed publicly.

    The photos chosen at publication stay chosen while they still belong to a
    finding, and the redaction choices made at publication (terms masked,
    notes left out or in) apply again.  Idempotent: an unchanged snapshot is
    not written again.
    """
    result = PublishedResult.objects(inspection_id=str(inspection.id)).first()
    if result is None:
        return
    photos = [p for p in result.photo_ids or [] if p in set(available_photos(inspection))]
    # include_notes is None for results published before the choice existed: they were published with notes.
    snapshot = build_snapshot(inspection, photos, redact_terms=list(result.redact_terms or []),
                              include_notes=result.include_notes is not False)
    if snapshot == result.snapshot and result.order_id == inspection.order_id:
        return
    PublishedResult.objects(id=result.id).update_one(
        set__snapshot=snapshot, set__score=snapshot["score"], set__grade=snapshot["grade"],
        set__photo_ids=photos, set__order_id=inspection.order_id, set__corrected_at=now)
    audit.record("publication.result_corrected", target_type="published_result", target_id=str(result.id),
                 region=result.region,
                 data={"inspection_id": str(inspection.id), "score_before": result.score,
                       "score_after": snapshot["score"], "corrections": len(snapshot["corrections"])}, now=now)


SYNC_WINDOW = timedelta(days=90)  # longer than 20 working days plus any holiday season


def sync_trackers(*, now: datetime, config: dict[str, Any] | None = None) -> int:
    """Safety net behind the submission hook: create trackers for recently submitted inspections that
    have none (e.g. a crash between the state flip and the hook); returns how many were created."""
    Inspection = _inspection_model()
    coll = Inspection._get_collection()
    created = 0
    recent = coll.find({"state": "submitted", "submitted_at": {"$gte": now - SYNC_WINDOW}}, {"_id": 1})
    all_ids = [d["_id"] for d in recent]
    for start in range(0, len(all_ids), 1000):
        ids = all_ids[start:start + 1000]
        known = {t["inspection_id"] for t in PublicationDeadline._get_collection().find(
            {"inspection_id": {"$in": [str(i) for i in ids]}}, {"inspection_id": 1})}
        for oid in ids:
            if str(oid) in known:
                continue
            inspection = Inspection.objects(id=oid).first()
            if inspection is not None and (inspection.submitted_at or inspection.submission_started_at):
                ensure_tracker(inspection, now=now, config=config)
                created += 1
    return created


def pending_publications(user, *, now: datetime, config: dict[str, Any] | None = None):
    """Submitted, not yet published results of the office's region, earliest publication deadline first."""
    _require_office(user)
    sync_trackers(now=now, config=config)
    return PublicationDeadline.objects(__raw__={"region": region_range(user.region), "published_at": None}).order_by(
        "deadline", "id").hint([("published_at", 1), ("deadline", 1), ("_id", 1), ("region", 1)])


def tracker_view(tracker: PublicationDeadline, *, today: date) -> dict[str, Any]:
    institution = _institution(tracker.institution_id)
    return {"inspection_id": tracker.inspection_id, "code": tracker.code, "institution_id": tracker.institution_id,
            "institution_name": getattr(institution, "name", None), "region": tracker.region,
            "concluded_at": isoformat(tracker.concluded_at), "deadline": _d(tracker.deadline).isoformat(),
            "overdue": today > _d(tracker.deadline), "level": tracker.level,
            "steps": [{"code": s.code, "title": s.title, "due": _d(s.due).isoformat(), "at": isoformat(s.at)}
                      for s in tracker.steps]}


def _as_dt(d: date) -> datetime:
    from datetime import timezone

    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def sweep_publication_deadlines(now: datetime, *, config: dict[str, Any] | None = None) -> dict[str, int]:
    """Escalate unpublished results past their publication deadline; each ladder step exactly once.

    Idempotent and safe to run concurrently: a step is claimed with one
    conditional update (``published_at`` unset and the step code not yet in
    ``step_codes``), and inbox notifications are deduplicated by
    ``publication:<tracker>:<step>``.  Catches up after downtime.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ladder = publication_ladder(config)
    calendar = _calendar()
    today = business_date(now)
    stats = {"trackers_created": sync_trackers(now=now, config=config), "selected": 0, "steps": 0,
             "notifications": 0}
    coll = PublicationDeadline._get_collection()
    for doc in coll.find({"next_step_due": {"$lte": _as_dt(today)}},
                         {"_id": 1, "deadline": 1, "step_codes": 1, "published_at": 1}):
        stats["selected"] += 1
        if doc.get("published_at") is not None:
            coll.update_one({"_id": doc["_id"]}, {"$set": {"next_step_due": None}})
            continue
        deadline = _d(doc["deadline"])
        done = list(doc.get("step_codes") or [])
        due = ladder.due_steps(deadline, today, done, calendar)
        if not due:
            continue
        codes = [s.code for s in due]
        nxt = ladder.next_due_date(deadline, done + codes, calendar)
        records = [StepRecord(code=s.code, title=s.title, due=calendar.add_working_days(deadline, s.offset_working_days)
                              if s.offset_working_days else deadline, at=now, offset_working_days=s.offset_working_days,
                              recipients=list(s.recipients)).to_mongo().to_dict() for s in due]
        for r in records:
            r["due"] = _as_dt(_d(r["due"]))
        sets: dict[str, Any] = {"next_step_due": _as_dt(nxt) if nxt else None, "level": codes[-1],
                                "notify_pending": True}
        if any(s.offset_working_days > 0 for s in due):
            sets["overdue"] = True
        claimed = coll.update_one(
            {"_id": doc["_id"], "published_at": None, "step_codes": {"$nin": codes}},
            {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes}, "pending_steps": {"$each": codes}},
             "$set": sets})
        stats["steps"] += len(codes) if claimed.modified_count else 0
    stats["notifications"] = _write_pending_notifications(now, config=config)
    stats["notices_numbered"] = complete_notice_numbers()
    log.info("publication sweep as of %s: %s", now.isoformat(), stats)
    return stats


def _write_pending_notifications(now: datetime, *, config: dict[str, Any] | None = None) -> int:
    sent = 0
    for tracker in PublicationDeadline.objects(notify_pending=True):
        pending = list(tracker.pending_steps or [])
        records = {s.code: s for s in tracker.steps}
        institution = _institution(tracker.institution_id)
        for code in pending:
            record = records.get(code)
            if record is None:
                continue
            users: list[str] = []
            for role in record.recipients:
                users.extend(_recipients(role, tracker))
            kind = f"publication.{code}" if f"publication.{code}" in TEMPLATES else "publication.step"
            notes = _notify(users, kind=kind,
                            params={"code": tracker.code or tracker.inspection_id, "step_title": record.title,
                                    "days": abs(record.offset_working_days)
                                    if record.offset_working_days is not None else "",
                                    "deadline": _d(tracker.deadline).isoformat(),
                                    "institution_name": getattr(institution, "name", "被检查机构")},
                            data={"inspection_id": tracker.inspection_id, "institution_id": tracker.institution_id,
                                  "step": code, "deadline": _d(tracker.deadline).isoformat()},
                            dedupe=f"publication:{tracker.id}:{code}", region=tracker.region, now=now,
                            config=_config(config))
            sent += len(notes)
            PublicationDeadline._get_collection().update_one(
                {"_id": tracker.id, "steps.code": code},
                {"$set": {"steps.$.notification_ids": [str(n.id) for n in notes]}})
        PublicationDeadline._get_collection().update_one(
            {"_id": tracker.id, "pending_steps": pending}, {"$unset": {"notify_pending": "", "pending_steps": ""}})
    return sent


# --------------------------------------------------------------------------- public reads of results

def public_results(*, region: str | None = None, kind: str | None = None, grade: str | None = None,
                   date_from: date | None = None, date_to: date | None = None, institution_id: str | None = None,
                   by: str = "published"):
    """Published results, newest first: by publication time (open data: a consumer syncing stops at the
    last result it has), or with ``by="inspection_date"`` by inspection date (what the pages show)."""
    query = PublishedResult.objects
    if region:
        query = query.filter(__raw__={"region": _scope_range(region)})
    if kind:
        query = query.filter(institution_kind=kind)
    if grade:
        query = query.filter(grade=grade)
    if date_from:
        query = query.filter(inspected_on__gte=date_from)
    if date_to:
        query = query.filter(inspected_on__lte=date_to)
    if institution_id:
        query = query.filter(institution_id=institution_id)
    if by == "inspection_date":
        query, keys = query.order_by("-inspected_on", "-published_at", "-id"), [("inspected_on", -1)]
    else:
        query, keys = query.order_by("-published_at", "-id"), []
    keys += [("published_at", -1), ("_id", -1)]
    # The sort's index: the institution's own when one is asked for, else the whole list's (region on its keys).
    return query.hint([("institution_id", 1), *keys] if institution_id else [*keys, ("region", 1)])


def public_result(result_id: str) -> PublishedResult:
    oid = _oid(result_id)
    result = PublishedResult.objects(id=oid).first() if oid else None
    if result is None:
        raise NotFound("检查结果不存在或尚未公开", code="RESULT_NOT_FOUND")
    return result


def result_views(results, *, with_findings: bool = False) -> list[dict[str, Any]]:
    """Views of many results with their live status read in two queries."""
    results = list(results)
    statuses = rectification_statuses([r.order_id for r in results])
    return [result_view(r, with_findings=with_findings, status=statuses.get(str(r.order_id)) or _status(None, []))
            for r in results]


def result_view(result: PublishedResult, *, with_findings: bool = True,
                status: dict[str, Any] | None = None) -> dict[str, Any]:
    """Public view: the frozen snapshot plus live rectification status (pass ``status`` from
    :func:`rectification_statuses` when rendering many)."""
    snap = result.snapshot or {}
    if status is None:
        status = rectification_status(result.order_id)
    vetoes = veto_failed(snap)
    out = {
        "id": str(result.id), "code": result.code, "institution": snap.get("institution") or {},
        "inspected_on": snap.get("inspected_on"), "matters": snap.get("matters") or [],
        "team": snap.get("team") or [], "score": snap.get("score"), "grade": snap.get("grade"),
        "grade_name": vocabulary.grade_name(snap.get("grade")) if snap.get("grade") else snap.get("grade_name"),
        "veto_failed": vetoes, "grade_reason": grade_reason(snap.get("grade"), vetoes),
        "finding_count": snap.get("finding_count", 0),
        "published_at": isoformat(result.published_at),
        "rectification": {k: status[k] for k in ("order_number", "summary", "counts")},
        "corrections": snap.get("corrections") or [],
    }
    if with_findings:
        out["findings"] = merge_status(snap, status)
    return out


def public_photo(result: PublishedResult, photo_id: str):
    """The evidence of a photo chosen to be public with ``result`` (404 otherwise)."""
    if photo_id not in (result.photo_ids or []):
        raise NotFound("照片不存在或未公开", code="PHOTO_NOT_FOUND")
    from inspect_api.evidence import service as evidence

    item = evidence.get_evidence(photo_id)
    if item is None:
        raise NotFound("照片不存在或未公开", code="PHOTO_NOT_FOUND")
    return item


def public_institution(public_id: str):
    institution = _institution_by_public_id(public_id)
    if institution is None:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    return institution


def institution_counts(institution_id: str) -> dict[str, int]:
    """Open and overdue finding counts of an institution (live)."""
    return institutions_counts([str(institution_id)])[str(institution_id)]


def institutions_counts(institution_ids: list[str]) -> dict[str, dict[str, int]]:
    """Open and overdue finding counts of several institutions (live), in one index-served aggregate."""
    from inspect_api.rectification.models import Finding

    ids = [str(i) for i in institution_ids]
    out = {i: {"open_findings": 0, "overdue_findings": 0} for i in ids}
    if not ids:
        return out
    pipeline = [
        {"$match": {"institution_id": {"$in": ids}, "status": {"$in": ["open", "reopened", "answered"]}}},
        {"$group": {"_id": "$institution_id", "open": {"$sum": 1}, "overdue": {"$sum": {"$cond": [
            {"$and": [{"$eq": ["$overdue", True]}, {"$in": ["$status", ["open", "reopened"]]}]}, 1, 0]}}}}]
    for row in Finding._get_collection().aggregate(pipeline, hint="institution_id_1_status_1"):
        out[row["_id"]] = {"open_findings": int(row["open"]), "overdue_findings": int(row["overdue"])}
    return out


def institution_view(institution, *, with_counts: bool = True, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Public fields of an institution; finding counts given (a page's, from one query) or read here."""
    from inspect_api.directory.service import point_latlon

    regions = region_names()
    latlon = point_latlon(institution.location) if institution.location else None
    out = {"id": institution.public_id, "name": institution.name, "kind": institution.kind,
           "kind_name": _kinds().get(institution.kind, institution.kind), "region": institution.region,
           "region_name": regions.get(institution.region, institution.region), "address": institution.address,
           "latitude": latlon[0] if latlon else None, "longitude": latlon[1] if latlon else None,
           "contact_name": institution.contact_name, "contact_phone": institution.contact_phone,
           "status": institution.status}
    if counts is not None:
        out.update(counts)
    elif with_counts:
        out.update(institution_counts(str(institution.id)))
    return out


def public_institutions(*, region: str | None = None, kind: str | None = None):
    from inspect_api.directory.models import Institution

    query = Institution.objects(status__ne="closed")
    if region:
        query = query.filter(__raw__={"region": _scope_range(region)})
    if kind:
        query = query.filter(kind=kind)
    return query.order_by("region", "name", "id").hint([("region", 1), ("name", 1), ("_id", 1)])


# --------------------------------------------------------------------------- notices

def _notice_in_scope(user, notice_id: str) -> Notice:
    _require_office(user)
    oid = _oid(notice_id)
    notice = Notice.objects(id=oid).first() if oid else None
    if notice is None or not in_scope(user.region, notice.office_region):
        raise NotFound("通报不存在", code="NOTICE_NOT_FOUND")
    return notice


def notice_for(user, notice_id: str) -> Notice:
    return _notice_in_scope(user, notice_id)


def list_notices(user, *, status: str | None = None):
    _require_office(user)
    query = Notice.objects(__raw__={"office_region": region_range(user.region)})
    if status:
        query = query.filter(status=status)
    return query.order_by("-created_at", "-id").hint([("created_at", -1), ("_id", -1), ("office_region", 1)])


def _finding_query(region: str):
    """Findings of ``region``'s subtree that a notice may cite (not those withdrawn by a correction)."""
    from inspect_api.rectification.models import Finding

    return Finding.objects(__raw__={"region": region_range(region), "status": {"$ne": "withdrawn"}})


def _citations(finding_ids: list[str]) -> dict[str, list[tuple[date | None, datetime]]]:
    """For each finding id: (its deadline then, publication time) of every published, not retracted, notice
    citing it."""
    out: dict[str, list[tuple[date | None, datetime]]] = {}
    wanted = set(finding_ids)
    for start in range(0, len(finding_ids), 1000):
        chunk = finding_ids[start:start + 1000]
        for notice in Notice.objects(finding_ids__in=chunk, status="published").only("items", "published_at"):
            for item in notice.items or []:
                if item.finding_id in wanted:
                    out.setdefault(item.finding_id, []).append((_d(item.deadline), as_utc(notice.published_at)))
    return out


def _already_cited(finding, citations: list[tuple[date | None, datetime]]) -> bool:
    """True when a published notice cited ``finding`` with its current deadline, or after its latest
    escalation (the ladder's pre-selection, else the first overdue day)."""
    if finding.preselected_for_notice and finding.preselected_at:
        since: datetime | None = as_utc(finding.preselected_at)
    elif finding.overdue and finding.overdue_since:
        day = _d(finding.overdue_since)
        since = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    else:
        since = None
    return any(deadline == _d(finding.deadline) or since is None or at >= since for deadline, at in citations)


def candidate_findings(user, *, region: str, period_from: date, period_to: date) -> list[dict[str, Any]]:
    """Findings of a period and region a notice may include.

    Pre-selected: findings still owed (not settled) that the ladder pre-selected
    or that are overdue, unless a published (not retracted) notice already cited
    them (:func:`_already_cited`); those, like every other finding of the
    period, stay selectable.  A finding that got a new deadline (rejected
    answer, extension) and escalates again is pre-selected again.
    """
    from inspect_api.rectification.models import SETTLED

    _require_office(user)
    _check_notice_region(user, region)
    start, end = _as_dt(period_from), _as_dt(period_to)
    end = end + timedelta(days=1)
    query = _finding_query(region)
    owed = query.filter(status__nin=list(SETTLED))
    findings, seen = [], set()
    for f in list(query.filter(created_at__gte=start, created_at__lt=end)) + \
            list(owed.filter(preselected_for_notice=True)) + list(owed.filter(overdue=True)):
        if str(f.id) not in seen:
            seen.add(str(f.id))
            findings.append(f)
    cited = _citations([str(f.id) for f in findings])
    out = []
    names: dict[str, Any] = {}
    for f in findings:
        if f.institution_id not in names:
            names[f.institution_id] = _institution(f.institution_id)
        inst = names[f.institution_id]
        escalated = f.status not in SETTLED and bool(f.preselected_for_notice or f.overdue)
        preselected = escalated and not _already_cited(f, cited.get(str(f.id), []))
        out.append({"finding_id": str(f.id), "order_number": f.order_number, "institution_id": f.institution_id,
                    "institution_name": getattr(inst, "name", None), "region": f.region,
                    "item_text": f.item_text, "severity": f.severity, "status": f.status,
                    "deadline": _d(f.deadline).isoformat() if f.deadline else None, "overdue": bool(f.overdue),
                    "preselected": preselected})
    out.sort(key=lambda c: (not c["preselected"], c["region"], c["order_number"] or ""))
    return out


def _check_notice_region(user, region: str) -> None:
    if not is_region_code(region) or not in_scope(user.region, region):
        raise Unprocessable("通报范围必须在本办公室辖区内", code="NOTICE_REGION_OUT_OF_SCOPE",
                            details={"region": region})


# A notice freezes one item per cited finding inside its document, which MongoDB caps at 16 MiB.
# An item is at most about 2 KiB (bounded texts), so 2,000 findings stay under 4 MiB: the cap keeps
# every notice far below the limit (and a notice citing more would not be read by anyone).
MAX_NOTICE_FINDINGS = 2000


def _check_notice_size(count: int) -> None:
    if count > MAX_NOTICE_FINDINGS:
        raise Unprocessable(f"一份通报最多列入 {MAX_NOTICE_FINDINGS} 个问题，请缩小范围或分期通报",
                            code="NOTICE_TOO_MANY_FINDINGS", details={"count": count, "max": MAX_NOTICE_FINDINGS})


def _check_findings(region: str, finding_ids: Iterable[str]) -> list[str]:
    from inspect_api.rectification.models import Finding

    ids = list(dict.fromkeys(str(i) for i in finding_ids))
    _check_notice_size(len(ids))
    oids = [_oid(i) for i in ids]
    found = {str(f.id): f for f in Finding.objects(id__in=[o for o in oids if o],
                                                   status__ne="withdrawn").only("id", "region")}
    bad = [i for i in ids if i not in found or not in_scope(region, found[i].region)]
    if bad:
        raise Unprocessable("所选问题不存在或不在通报范围内", code="FINDING_OUT_OF_SCOPE", details={"finding_ids": bad})
    return ids


def _default_title(region: str, period_from: date, period_to: date) -> str:
    name = region_names().get(region, region)
    return f"关于{name}{period_from.isoformat()}至{period_to.isoformat()}医养结合机构检查发现问题的通报"


def _default_text(count: int) -> str:
    return (f"根据“双随机、一公开”监管工作安排，现将检查中发现的问题及逾期未整改情况通报如下（共 {count} 项）。"
            "请相关机构对照问题清单立即整改，主管部门加强督导，整改情况将持续公开。")


def draft_notice(user, body: dict[str, Any], *, now: datetime) -> Notice:
    _require_office(user)
    region = body.get("region") or user.region
    _check_notice_region(user, region)
    period_from, period_to = body["period_from"], body["period_to"]
    if period_from > period_to:
        raise Unprocessable("通报期间的开始日期不能晚于结束日期", code="PERIOD_INVALID")
    if body.get("finding_ids") is None:
        ids = [c["finding_id"] for c in candidate_findings(user, region=region, period_from=period_from,
                                                            period_to=period_to) if c["preselected"]]
    else:
        ids = _check_findings(region, body["finding_ids"])
    _check_notice_size(len(ids))
    notice = Notice(office_region=user.region, region=region, period_from=period_from, period_to=period_to,
                    title=body.get("title") or _default_title(region, period_from, period_to),
                    text=body.get("text") or _default_text(len(ids)), finding_ids=ids, status="draft",
                    created_by=str(user.id), created_at=now, updated_at=now)
    notice.save()
    audit.record("notice.drafted", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"findings": len(ids), "period_from": period_from.isoformat(),
                                             "period_to": period_to.isoformat()}, now=now)
    return notice


def update_notice(user, notice_id: str, body: dict[str, Any], *, now: datetime) -> Notice:
    notice = _notice_in_scope(user, notice_id)
    if notice.status != "draft":
        raise Conflict("只能修改草稿状态的通报", code="NOTICE_NOT_DRAFT", details={"status": notice.status})
    sets: dict[str, Any] = {}
    for key in ("title", "text"):
        if key in body:
            sets[key] = body[key]
    period_from = body.get("period_from", _d(notice.period_from))
    period_to = body.get("period_to", _d(notice.period_to))
    if period_from > period_to:
        raise Unprocessable("通报期间的开始日期不能晚于结束日期", code="PERIOD_INVALID")
    if "period_from" in body:
        sets["period_from"] = period_from
    if "period_to" in body:
        sets["period_to"] = period_to
    if "finding_ids" in body:
        sets["finding_ids"] = _check_findings(notice.region, body["finding_ids"])
    changed = Notice.objects(id=notice.id, status="draft").update_one(
        **{f"set__{k}": v for k, v in sets.items()}, set__updated_at=now)
    if not changed:
        raise Conflict("只能修改草稿状态的通报", code="NOTICE_NOT_DRAFT")
    notice.reload()
    audit.record("notice.edited", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"fields": sorted(sets)}, now=now)
    return notice


def _issuer(office_region: str) -> str:
    return f"{region_names().get(office_region, office_region)}医养结合工作领导小组办公室"


def _frozen_items(finding_ids: list[str]) -> list[NoticeItem]:
    from inspect_api.rectification.models import Finding

    by_id = {str(f.id): f for f in Finding.objects(id__in=[_oid(i) for i in finding_ids if _oid(i)])}
    items, names = [], {}
    for fid in finding_ids:
        f = by_id.get(fid)
        if f is None:
            continue
        if f.institution_id not in names:
            names[f.institution_id] = _institution(f.institution_id)
        inst = names[f.institution_id]
        items.append(NoticeItem(finding_id=fid, order_id=f.order_id, order_number=f.order_number,
                                institution_id=f.institution_id, institution_name=getattr(inst, "name", None),
                                institution_public_id=getattr(inst, "public_id", None), region=f.region,
                                item_text=redact(f.item_text), clause=f.clause, severity=f.severity,
                                deadline=_d(f.deadline), overdue=bool(f.overdue), status=f.status))
    return items


def _next_seq(office_region: str, year: int, *, session=None) -> int:
    """The next notice number of an office and year; numbers already used (restored data) are skipped."""
    return db.next_in_sequence(
        NoticeCounter._meta["collection"], f"{office_region}-{year}", session=session,
        taken=lambda n: Notice.objects(office_region=office_region, year=year, seq=n).limit(1).count(True) > 0)


def notice_number(year: int, seq: int) -> str:
    return f"〔{year}〕{seq}号"


def publish_notice(user, notice_id: str, *, now: datetime) -> Notice:
    """Publish a draft: freeze its findings and number it (〔year〕n号, per office and year) in one update.

    The number is taken from the office's atomic counter and written by the
    conditional update that publishes, in one transaction where the server has
    them (a failure changes neither).  Without one (the in-process store) a
    crash after taking the number, or a publisher losing a race, leaves a gap
    in the sequence (numbers stay unique; gaps are tolerated); the draft can be
    published again.
    """
    notice = _notice_in_scope(user, notice_id)
    if notice.status != "draft":
        raise Conflict("该通报已发布或已撤回", code="NOTICE_NOT_DRAFT", details={"status": notice.status})
    if not (notice.text or "").strip():
        raise Unprocessable("通报正文不能为空", code="NOTICE_TEXT_REQUIRED")
    items = _frozen_items(list(notice.finding_ids or []))
    for item in items:
        item.validate()
    issuer = _issuer(notice.office_region)
    year = business_date(now).year

    def write(session):  # the number and the publication together: no gap where transactions exist
        seq = _next_seq(notice.office_region, year, session=session)
        claimed = db.collection(Notice).update_one({"_id": notice.id, "status": "draft"}, {"$set": {
            "status": "published", "published_at": now, "published_by": str(user.id),
            "items": [item.to_mongo().to_dict() for item in items], "issuer": issuer, "year": year, "seq": seq,
            "number": notice_number(year, seq), "updated_at": now}}, session=session)
        if not claimed.modified_count:
            raise Conflict("该通报已发布或已撤回", code="NOTICE_NOT_DRAFT")

    db.transaction(write)
    notice.reload()
    audit.record("notice.published", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"number": notice.number, "findings": len(items)}, now=now)
    return notice


def complete_notice_numbers() -> int:
    """Number notices published without one (by versions that numbered after publishing and crashed in
    between); the year is that of their publication.  Idempotent; run by the publication sweep."""
    done = 0
    for notice in Notice.objects(number=None, status__in=["published", "retracted"]).only(
            "id", "office_region", "published_at"):
        year = business_date(as_utc(notice.published_at)).year
        seq = _next_seq(notice.office_region, year)
        done += Notice.objects(id=notice.id, number=None).update_one(set__year=year, set__seq=seq,
                                                                    set__number=notice_number(year, seq))
    return done


def retract_notice(user, notice_id: str, *, reason: str, now: datetime) -> Notice:
    """Retract a published notice; the public reason stays visible on its page."""
    notice = _notice_in_scope(user, notice_id)
    reason = (reason or "").strip()
    if not reason:
        raise Unprocessable("撤回通报必须填写公开的撤回理由", code="RETRACTION_REASON_REQUIRED")
    if notice.status != "published":
        raise Conflict("只能撤回已发布的通报", code="NOTICE_NOT_PUBLISHED", details={"status": notice.status})
    changed = Notice.objects(id=notice.id, status="published").update_one(
        set__status="retracted", set__retracted_at=now, set__retracted_by=str(user.id),
        set__retraction_reason=reason, set__updated_at=now)
    if not changed:
        raise Conflict("只能撤回已发布的通报", code="NOTICE_NOT_PUBLISHED")
    notice.reload()
    audit.record("notice.retracted", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"number": notice.number, "reason": reason}, now=now)
    return notice


def notice_view(notice: Notice, *, live: bool = True) -> dict[str, Any]:
    """A notice as the API and the public pages show it (items with their live rectification status)."""
    items = []
    live_status: dict[str, Any] = {}
    if live and notice.items:
        from inspect_api.rectification.models import Finding

        live_status = {str(f.id): f for f in Finding.objects(
            id__in=[_oid(i.finding_id) for i in notice.items if _oid(i.finding_id)]).only("id", "status", "overdue")}
    for item in notice.items or []:
        f = live_status.get(item.finding_id)
        status = f.status if f is not None else item.status
        items.append({"finding_id": item.finding_id, "order_number": item.order_number,
                      "institution_name": item.institution_name,
                      "institution_public_id": item.institution_public_id, "region": item.region,
                      "item_text": item.item_text, "clause": item.clause, "severity": item.severity,
                      "severity_name": vocabulary.severity_name(item.severity),
                      "deadline": _d(item.deadline).isoformat() if item.deadline else None,
                      "overdue_when_published": bool(item.overdue), "status": status,
                      "status_name": vocabulary.finding_status_name(status)})
    return {"id": str(notice.id), "number": notice.number, "status": notice.status,
            "status_name": NOTICE_STATUSES.get(notice.status, notice.status), "title": notice.title,
            "text": notice.text, "office_region": notice.office_region, "region": notice.region,
            "region_name": region_names().get(notice.region, notice.region), "issuer": notice.issuer,
            "period_from": _d(notice.period_from).isoformat(), "period_to": _d(notice.period_to).isoformat(),
            "finding_ids": list(notice.finding_ids or []), "items": items,
            "published_at": isoformat(notice.published_at), "retracted_at": isoformat(notice.retracted_at),
            "retraction_reason": notice.retraction_reason, "created_at": isoformat(notice.created_at),
            "updated_at": isoformat(notice.updated_at)}


PUBLIC_NOTICE_ORDER = ("-year", "-seq", "-published_at", "-id")


def public_notices():
    """Published and retracted notices by year and number, newest first (〔2026〕2号 before 〔2026〕1号)."""
    return Notice.objects(status__in=["published", "retracted"]).order_by(*PUBLIC_NOTICE_ORDER).hint(
        [("year", -1), ("seq", -1), ("published_at", -1), ("_id", -1), ("status", 1)])


def notices_citing(institution_id: str):
    """Published and retracted notices that name an institution, newest first (its public profile links them)."""
    return Notice.objects(items__institution_id=str(institution_id),
                          status__in=["published", "retracted"]).order_by(*PUBLIC_NOTICE_ORDER).hint(
        [("items.institution_id", 1), ("year", -1), ("seq", -1), ("published_at", -1), ("_id", -1)])


def public_notice(notice_id: str) -> Notice:
    oid = _oid(notice_id)
    notice = Notice.objects(id=oid, status__in=["published", "retracted"]).first() if oid else None
    if notice is None:
        raise NotFound("通报不存在或尚未发布", code="NOTICE_NOT_FOUND")
    return notice
