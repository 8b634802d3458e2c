"""Submission: completeness, scoring, and the chain of idempotent, resumable steps that concludes a visit.

Submission is a chain of idempotent, resumable steps (see ``inspect_api.db``):
lock (``submission_started_at``), score and freeze findings, open the
rectification order (idempotent by inspection id), record the risk event
(guarded by ``risk_recorded``), freeze the report and its hash, mark the
assignment, and flip ``state`` to ``submitted`` last.  A replay after the flip
returns the stored result; a retry after a crash finishes the missing steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.directory.institutions import record_risk_event
from inspect_api.errors import Conflict, Forbidden, Unprocessable
from inspect_api.inspections import hooks
from inspect_api.inspections.answers import current_responses
from inspect_api.inspections.hooks import open_order
from inspect_api.inspections.models import Assignment, Inspection
from inspect_api.inspections.records import (
    applies, checklist_items, content_of, ensure_inspection, evidence_service, institution_kind, item_index,
    team_assignment)
from inspect_api.inspections.reports import build_report, content_hash, order_summary


def _score(content: dict[str, Any], responses: dict[str, dict[str, Any]], kind: str | None):
    from checklists.scoring import score

    return score(content, responses, kind=kind)


def _min_photos(item: dict[str, Any]) -> int:
    evidence = item.get("evidence") or {}
    if isinstance(evidence, dict):
        return int(evidence.get("min_photos") or 0)
    return 0


def missing_for_submission(inspection: Inspection, content: dict[str, Any]) -> dict[str, Any]:
    """What still blocks submission: unanswered items, photos the evidence rule needs, signatures.

    Every item applicable to the institution's kind needs an answer; an item
    answered ``deduct`` or ``fail`` (a finding) needs at least its
    ``evidence.min_photos`` photos; each team member and the institution's
    representative must have signed.
    """
    responses = current_responses(inspection.id)
    photos: dict[str, int] = {}
    for photo in evidence_service().for_owner("inspection", str(inspection.id), kind="photo"):
        photos[photo.item_id] = photos.get(photo.item_id, 0) + 1
    unanswered, need_photos = [], []
    kind = institution_kind(inspection.institution_id)
    for item in checklist_items(content):
        item_id = str(item["id"])
        resp = responses.get(item_id)
        if resp is None:
            if not applies(item, kind):
                continue
            unanswered.append(item_id)
            continue
        needed = _min_photos(item)
        if needed and resp.result in ("deduct", "fail") and photos.get(item_id, 0) < needed:
            need_photos.append({"item_id": item_id, "required": needed, "uploaded": photos.get(item_id, 0)})
    signed_inspectors = {s.inspector_id for s in inspection.signatures if s.signer_role in ("lead", "member")}
    missing_signatures = [{"role": "lead" if i == 0 else "member", "inspector_id": x}
                          for i, x in enumerate(inspection.team) if x not in signed_inspectors]
    if not any(s.signer_role == "institution_representative" for s in inspection.signatures):
        missing_signatures.append({"role": "institution_representative", "inspector_id": None})
    out = {}
    if unanswered:
        out["unanswered_items"] = unanswered
    if need_photos:
        out["photos_required"] = need_photos
    if missing_signatures:
        out["signatures"] = missing_signatures
    return out


def _responses_for_scoring(inspection_id) -> dict[str, dict[str, Any]]:
    return {item_id: {"result": r.result, "deductions": list(r.deduction_codes or []), "note": r.note}
            for item_id, r in current_responses(inspection_id).items()}


def score_inspection(inspection: Inspection, content: dict[str, Any], config: dict[str, Any]) -> tuple[dict, list]:
    """Score with the checklists engine; return (result dict, findings as the dicts ``open_order`` takes)."""
    from checklists.errors import ScoringError

    kind = institution_kind(inspection.institution_id)
    try:
        scored = _score(content, _responses_for_scoring(inspection.id), kind)
    except ScoringError as exc:
        raise Unprocessable("检查记录无法评分", code="SCORING_FAILED", details={"problems": exc.problems}) from exc
    index = item_index(content)
    responses = current_responses(inspection.id)
    photos: dict[str, list[str]] = {}
    for photo in evidence_service().for_owner("inspection", str(inspection.id), kind="photo"):
        photos.setdefault(photo.item_id, []).append(str(photo.id))
    findings = []
    for f in scored.findings:
        item = index.get(f.item_id, {})
        resp = responses.get(f.item_id)
        findings.append({
            "item_id": f.item_id, "item_text": f.item_text, "clause": item.get("clause"),
            "section_id": f.section_id, "result": f.result, "severity": f.severity, "veto": f.veto,
            "deductions": [{"code": d.code, "text": d.text, "points": float(d.points * d.count), "count": d.count}
                           for d in f.deductions],
            "points_lost": float(f.points_lost), "item_points": float(f.item_points),
            "deadline_working_days": int(f.deadline_working_days), "reinspection_required": bool(f.reinspection),
            "note": resp.note if resp else None, "photo_ids": photos.get(f.item_id, []),
        })
    result = {"score": float(scored.score), "grade": scored.grade, "grade_name": scored.grade_name,
              "earned": float(scored.earned), "applicable_max": float(scored.applicable_max),
              "veto_failed": list(scored.veto_failed), "not_applicable": list(scored.not_applicable),
              "kind": kind}
    return result, findings


def submit(user, inspection_id: str, *, now: datetime, config: dict[str, Any] | None = None) -> Inspection:
    """Lead only, idempotent and resumable; refuses with the list of what is missing."""
    config = config or {}
    assignment, inspector_id = team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspector_id != inspection.team[0]:
        raise Forbidden("只有检查组组长可以提交检查", code="NOT_TEAM_LEAD")
    if inspection.state == "submitted":
        # Replay: the first result.  The hooks run again (they are idempotent), so a submission whose first
        # request died after the state flip still starts its publication clock when the phone retries.
        hooks.run_submitted_hooks(inspection, now)
        return inspection
    if inspection.state != "checked_in":
        raise Conflict("尚未签到：请先扫描机构二维码签到", code="NOT_CHECKED_IN")
    content = content_of(inspection)
    if inspection.submission_started_at is None:
        missing = missing_for_submission(inspection, content)
        if missing:
            raise Unprocessable("检查记录不完整，不能提交", code="SUBMISSION_INCOMPLETE", details={"missing": missing})
        result, findings = score_inspection(inspection, content, config)  # before locking: a refusal stores nothing
        Inspection.objects(id=inspection.id, submission_started_at=None).update_one(
            set__submission_started_at=now, set__submitted_by=str(user.id))
        inspection.reload()
    # Step: score and freeze findings (deterministic: responses are locked now).
    result, findings = score_inspection(inspection, content, config)
    concluded_at = inspection.submission_started_at
    Inspection.objects(id=inspection.id).update_one(set__result=result, set__findings=findings)
    # Step: the rectification order (idempotent by inspection id: a resume gets the first order back).
    order_id, summary = inspection.order_id, None
    if findings:
        order = open_order(inspection_id=str(inspection.id), institution_id=inspection.institution_id,
                           region=inspection.region, lead_inspector_id=inspection.team[0],
                           team=list(inspection.team), checklist_code=inspection.checklist_code,
                           findings=[order_finding(f) for f in findings], concluded_at=concluded_at, now=now)
        if order is not None:
            order_id = str(order.id)
            summary = order_summary(order)
            Inspection.objects(id=inspection.id).update_one(set__order_id=order_id)
    # Step: risk profile of the institution (once).
    # Claimed first by an atomic flag, so two concurrent submits cannot both count the findings.
    if Inspection.objects(id=inspection.id, risk_recorded=False).update_one(set__risk_recorded=True):
        record_risk_event(inspection.institution_id, past_findings=len(findings),
                          inspected_at=concluded_at, now=now)
    inspection.reload()
    # Step: freeze the report and its hash.
    report = build_report(inspection, summary)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))
    Assignment.objects(id=assignment.id).update_one(set__status="submitted", set__updated_at=now)
    # Last: the state flip.
    flipped = Inspection.objects(id=inspection.id, state="checked_in").update_one(
        set__state="submitted", set__submitted_at=concluded_at, set__updated_at=now)
    inspection.reload()
    if flipped:
        audit.record("inspection.submitted", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"score": result["score"], "grade": result["grade"], "findings": len(findings),
                           "order_id": order_id, "report_hash": inspection.report_hash}, now=now)
    hooks.run_submitted_hooks(inspection, now)
    return inspection


def order_finding(finding: dict[str, Any]) -> dict[str, Any]:
    keys = ("item_id", "item_text", "clause", "severity", "deductions", "points_lost", "deadline_working_days",
            "reinspection_required", "note", "photo_ids")
    out = {k: finding.get(k) for k in keys}
    out["deductions"] = [{"code": d["code"], "text": d["text"], "points": d["points"]} for d in finding["deductions"]]
    return out
