"""Builders of submitted inspections for the demo seeder and tests.

They write what :func:`inspect_api.inspections.service.submit` leaves behind
(an assignment, a submitted inspection with result and findings, and the
rectification order through :func:`inspect_api.rectification.service.open_order`)
without walking the phone's check-in / photo / signature flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api import vocabulary
from inspect_api.inspections import service as inspections
from inspect_api.inspections.models import Assignment, Inspection



def finding(item_id: str, item_text: str, *, severity: str = "major", note: str | None = None,
            points: float = 2.0, days: int = 15, photo_ids: list[str] | None = None,
            clause: str | None = None, deduction: str | None = None, veto: bool = False) -> dict[str, Any]:
    """One finding in the shape the inspection stores (``veto``: a failed veto item, 一票否决项)."""
    return {"item_id": item_id, "item_text": item_text, "clause": clause, "section_id": item_id.rsplit("-", 1)[0],
            "result": "deduct", "severity": severity, "veto": veto,
            "deductions": [{"code": f"{item_id}-a", "text": deduction or item_text, "points": points, "count": 1}],
            "points_lost": points, "item_points": 5.0, "deadline_working_days": days,
            "reinspection_required": severity == "critical", "note": note, "photo_ids": list(photo_ids or [])}


def _order_finding(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("item_id", "item_text", "clause", "severity", "points_lost", "deadline_working_days",
            "reinspection_required", "note", "photo_ids")
    out = {k: f.get(k) for k in keys}
    out["deductions"] = [{"code": d["code"], "text": d["text"], "points": d["points"]} for d in f["deductions"]]
    return out


def submitted_inspection(*, institution, team: list[str], concluded_at: datetime, now: datetime,
                         findings: list[dict[str, Any]], score: float, grade: str, key: str,
                         state: str = "submitted", checklist_code: str = "DB37T4086-2020",
                         matters: list[str] | None = None) -> Inspection:
    """A submitted (or, with ``state``, an unfinished) inspection; idempotent by ``key``."""
    assignment = inspections.create_assignment(
        institution_id=str(institution.id), region=institution.region, team=list(team), source="draw",
        checklist_code=checklist_code, checklist_version=1, now=concluded_at, dedupe_key=f"publication:{key}",
        matters=matters)
    existing = Inspection.objects(id=assignment.id).first()
    if existing is not None:
        return existing
    submitted = state == "submitted"
    inspection = Inspection(
        id=assignment.id, code=inspections.next_code(institution.region, concluded_at),
        institution_id=str(institution.id), region=institution.region, team=list(team),
        checklist_code=checklist_code, checklist_version=1, state=state,
        submission_started_at=concluded_at if submitted else None, submitted_at=concluded_at if submitted else None,
        result={"score": score, "grade": grade, "grade_name": vocabulary.grade_name(grade),
                "veto_failed": [f["item_id"] for f in findings if f.get("veto")]} if submitted else {},
        findings=findings if submitted else [], created_at=concluded_at, updated_at=now)
    inspection.save(force_insert=True)
    if submitted:
        Assignment.objects(id=assignment.id).update_one(set__status="submitted")
        if findings:
            from inspect_api.rectification import service as rectification

            order = rectification.open_order(
                inspection_id=str(inspection.id), institution_id=str(institution.id), region=institution.region,
                lead_inspector_id=team[0], team=list(team), checklist_code=checklist_code,
                findings=[_order_finding(f) for f in findings], concluded_at=concluded_at,
                now=concluded_at)
            if order is not None:
                Inspection.objects(id=inspection.id).update_one(set__order_id=str(order.id))
        inspection.reload()
    return inspection
