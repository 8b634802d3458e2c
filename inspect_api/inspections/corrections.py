"""Corrections (更正): the lead's recorded change of a submitted inspection, re-scored and re-frozen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.directory.institutions import record_risk_event
from inspect_api.errors import Conflict, Forbidden, Unprocessable
from inspect_api.inspections import hooks
from inspect_api.inspections.answers import response_view, validate_answer
from inspect_api.inspections.hooks import open_order, reconcile_order
from inspect_api.inspections.models import Correction, Inspection, ItemResponse
from inspect_api.inspections.records import content_of, ensure_inspection, institution_kind, item_index, team_assignment
from inspect_api.inspections.reports import build_report, content_hash, order_summary
from inspect_api.inspections.submission import order_finding, score_inspection


def correct(user, inspection_id: str, body: dict[str, Any], *, now: datetime,
            config: dict[str, Any] | None = None) -> Inspection:
    """The lead's recorded correction of a submitted inspection: changes answers, re-scores, re-freezes the report.

    Idempotent by ``client_id`` and resumable like submission: the correction
    is recorded once, then the rectification order is reconciled with the new
    findings (withdrawn, added, changed), the report is re-frozen and the
    corrected hooks run (publication refreshes a published result); a replay
    finishes whichever of these steps a crash left undone.
    """
    config = config or {}
    assignment, inspector_id = team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspector_id != inspection.team[0]:
        raise Forbidden("只有检查组组长可以更正检查记录", code="NOT_TEAM_LEAD")
    if inspection.state != "submitted":
        raise Conflict("检查尚未提交，直接修改答案即可", code="NOT_SUBMITTED")
    client_id = str(body["client_id"])
    correction = _correction(inspection, client_id)
    if correction is None:
        _record_correction(user, inspection, inspector_id, client_id, body, now=now, config=config)
        inspection.reload()
        correction = _correction(inspection, client_id)
    order = _reconcile_order(inspection, correction, now=now)
    report = build_report(inspection, order_summary(order) if order is not None else None)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))
    inspection.reload()
    hooks.run_corrected_hooks(inspection, now)
    return inspection


def _correction(inspection: Inspection, client_id: str) -> Correction | None:
    return next((c for c in inspection.corrections if c.client_id == client_id), None)


def _record_correction(user, inspection: Inspection, inspector_id: str, client_id: str, body: dict[str, Any], *,
                       now: datetime, config: dict[str, Any]) -> None:
    """Validate and apply the changed answers, re-score, and append the correction (audited once)."""
    content = content_of(inspection)
    index = item_index(content)
    kind = institution_kind(inspection.institution_id)
    problems = [p for p in (validate_answer(index.get(c["item_id"]), c["item_id"], c["result"],
                                            list(c.get("deduction_codes") or []), kind)
                            for c in body["changes"]) if p]
    if problems:
        raise Unprocessable("更正内容无效", code="RESPONSES_INVALID", details={"problems": problems})
    ins_id = str(inspection.id)
    changes = []
    for change in body["changes"]:
        current = ItemResponse.objects(inspection_id=ins_id, item_id=change["item_id"]).first()
        before = response_view(current)
        fields = {"result": change["result"], "deduction_codes": list(change.get("deduction_codes") or []),
                  "note": change.get("note"), "client_id": f"correction:{client_id}", "updated_by": inspector_id,
                  "updated_at": now}
        if current is None:
            ItemResponse(inspection_id=ins_id, item_id=change["item_id"], revision=1, **fields).save()
        else:
            ItemResponse.objects(id=current.id).update_one(inc__revision=1, **{f"set__{k}": v for k, v in fields.items()})
        changes.append({"item_id": change["item_id"],
                        "before": {k: (before or {}).get(k) for k in ("result", "deduction_codes", "note")},
                        "after": {k: fields[k] for k in ("result", "deduction_codes", "note")}})
    before_result = dict(inspection.result or {})
    result, findings = score_inspection(inspection, content, config)
    correction = Correction(client_id=client_id, at=now, by=str(user.id), reason=body["reason"], changes=changes,
                            score_before=before_result.get("score"), score_after=result["score"],
                            grade_before=before_result.get("grade"), grade_after=result["grade"])
    if Inspection.objects(id=inspection.id, corrections__client_id__ne=client_id).update_one(
            push__corrections=correction, set__result=result, set__findings=findings, set__updated_at=now):
        audit.record("inspection.corrected", actor=actor_of(user), target_type="inspection", target_id=ins_id,
                     region=inspection.region,
                     data={"client_id": client_id, "reason": body["reason"], "changes": changes,
                           "score_before": correction.score_before, "score_after": correction.score_after},
                     now=now)


def _reconcile_order(inspection: Inspection, correction: Correction, *, now: datetime):
    """The order after a correction: reconciled with the findings, or opened when the first ones appear."""
    findings = [order_finding(f) for f in inspection.findings or []]
    if inspection.order_id:
        return reconcile_order(inspection.order_id, findings, reason=correction.reason,
                               corrected_at=correction.at, correction_id=correction.client_id,
                               now=now)
    order = open_order(inspection_id=str(inspection.id), institution_id=inspection.institution_id,
                       region=inspection.region, lead_inspector_id=inspection.team[0], team=list(inspection.team),
                       checklist_code=inspection.checklist_code, findings=findings,
                       concluded_at=inspection.submission_started_at, deadlines_from=correction.at, now=now)
    if order is not None:
        if Inspection.objects(id=inspection.id, order_id=None).update_one(set__order_id=str(order.id)):
            record_risk_event(inspection.institution_id, past_findings=len(findings), now=now)
        inspection.reload()
    return order
