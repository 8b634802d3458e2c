"""Publishing inspection results (结果公开): preview, publish, revise, and the refresh after a correction.

:func:`preview` returns exactly what :func:`publish` freezes: the public
snapshot (redacted; photos only when chosen by id) and the live rectification
status that public pages read at render time.  Offices (``office_admin``) act
inside their region subtree; an id out of scope answers 404.  Every state
change appends an audit event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from mongoengine.errors import NotUniqueError

from inspect_api import vocabulary
from inspect_api.audit import service as audit
from inspect_api.batched import Read, read_together
from inspect_api.auth.service import actor_of
from inspect_api.clock import as_utc, isoformat
from inspect_api.db import by_id, parse_oid
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.publication.deadlines import ensure_tracker
from inspect_api.publication.models import PublicationDeadline, PublishedResult
from inspect_api.redaction import mask_everywhere, normalize_terms, redact
from inspect_api.publication.sources import (
    as_date, get_institution, inspection_model, institution_kinds, region_names, require_office)
from inspect_api.scoping import in_scope
from inspect_api.workdays import business_date


def _assignment(inspection_id: str):
    from inspect_api.inspections.models import Assignment

    return Assignment.objects(id=parse_oid(inspection_id)).first()


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


def inspection_in_scope(user, inspection_id: str):
    """The inspection, for an office of its region (404 otherwise, and for unknown ids)."""
    require_office(user)
    inspection = by_id(inspection_model(), inspection_id)
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

    Redacted by the rules of :mod:`~inspect_api.redaction`, then
    every term the office chose is masked everywhere (``张秀英`` → ``张**``);
    free-text finding notes only when ``include_notes``; chosen photos only.
    """
    institution = get_institution(inspection.institution_id)
    regions = region_names()
    kinds = institution_kinds()
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
    return rectification_statuses([order_id]).get(str(order_id)) or status_view(None, [])


def rectification_status_reads(order_ids: Iterable[str | None]) -> tuple[list[str], Read | None, Read | None]:
    """What :func:`rectification_statuses` reads, to send with other reads: the orders' ids, their findings and
    their numbers (both keyed reads)."""
    from inspect_api.rectification.models import Finding, Order

    ids = list(dict.fromkeys(str(o) for o in order_ids if o and parse_oid(o)))
    if not ids:
        return ids, None, None
    wanted = {"order_id": 1, "order_number": 1, "seq": 1, "status": 1, "overdue": 1, "deadline": 1, "item_id": 1}
    return (ids,
            Read(Finding._get_collection_name(), {"order_id": {"$in": ids}}, projection=wanted,
                 sort=(("order_id", 1), ("seq", 1)), key="order_id"),
            Read(Order._get_collection_name(), {"_id": {"$in": [parse_oid(i) for i in ids]}}, projection={"number": 1}))


def rectification_statuses_from(ids: list[str], finding_rows: list[dict] | None,
                                order_rows: list[dict] | None) -> dict[str, dict[str, Any]]:
    """The status views of the orders ``ids`` from the rows of :func:`rectification_status_reads`."""
    findings: dict[str, list[dict]] = {}
    for row in finding_rows or []:
        findings.setdefault(row["order_id"], []).append(row)
    numbers = {str(row["_id"]): row.get("number") for row in order_rows or []}
    numbers.update({key: found[0].get("order_number") for key, found in findings.items() if not numbers.get(key)})
    return {key: status_view(numbers[key], findings.get(key, [])) for key in ids if key in numbers}


def rectification_statuses(order_ids: list[str | None]) -> dict[str, dict[str, Any]]:
    """:func:`rectification_status` for many orders, read in one round trip."""
    ids, findings_read, orders_read = rectification_status_reads(order_ids)
    return rectification_statuses_from(ids, *read_together(findings_read, orders_read))


def status_view(order_number: str | None, findings: list[dict]) -> dict[str, Any]:
    """The public rectification status of an order (None: no order) from its findings as stored."""
    by_seq = {}
    counts = {"total": 0, "accepted": 0, "open": 0, "overdue": 0, "withdrawn": 0}
    for f in findings:
        status = f["status"]
        overdue = bool(f.get("overdue")) and status != "accepted"
        by_seq[f["seq"]] = {"status": status, "status_name": vocabulary.finding_status_name(status),
                            "deadline": as_date(f["deadline"]).isoformat() if f.get("deadline") else None,
                            "overdue": overdue, "item_id": f.get("item_id")}
        if status == "withdrawn":  # a correction of the record removed it: nothing is owed
            counts["withdrawn"] += 1
            continue
        counts["total"] += 1
        counts["accepted" if status == "accepted" else "open"] += 1
        counts["overdue"] += int(overdue)
    if order_number is None or counts["total"] == 0:
        summary = "无需整改"
    elif counts["open"] == 0:
        summary = "已全部整改"
    elif counts["overdue"]:
        summary = f"整改中（{counts['overdue']} 项逾期）"
    else:
        summary = "整改中"
    return {"order_number": order_number, "summary": summary, "counts": counts, "findings": by_seq}


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
            "deadline": as_date(tracker.deadline).isoformat(), "published": published is not None,
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
    institution = get_institution(inspection.institution_id)
    concluded = inspection.submitted_at or inspection.submission_started_at
    deadline = as_date(tracker.deadline)
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
