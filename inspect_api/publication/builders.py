"""Builders of submitted inspections for the demo seeders and tests.

They write what :func:`inspect_api.inspections.submission.submit` leaves behind
(an assignment, a submitted inspection with result and findings, the
rectification order through :func:`inspect_api.rectification.service.open_order`,
and the frozen report with its hash) without walking the phone's check-in /
photo / signature flow.  :func:`checklist_finding` takes a finding's item,
text, clause, severity, deduction and deadline from the shipped checklist, so
that built findings name items that exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api import vocabulary
from inspect_api.inspections import assignments, hooks, records, reports
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


def checklist_finding(item_id: str, *, deduction: str = "a", note: str | None = None,
                      checklist_code: str = "DB37T4086-2020", photo_ids: list[str] | None = None) -> dict[str, Any]:
    """A finding on a real item of the published checklist (the shape submission stores)."""
    version = records.checklist_version(checklist_code)
    if version is None:
        raise LookupError(f"checklist {checklist_code} is not published")
    content = version["content"]
    for section in content["sections"]:
        for item in section["items"]:
            if str(item["id"]) != item_id:
                continue
            rule = {d["code"]: d for d in item["deductions"]}[deduction]
            points = min(float(item["points"]), float(rule["points"]))
            deadline = content["deadlines"][item["severity"]]
            return {"item_id": item_id, "item_text": item["text"], "clause": item.get("clause"),
                    "section_id": str(section["id"]), "result": "deduct", "severity": item["severity"],
                    "veto": bool(item.get("veto", False)),
                    "deductions": [{"code": deduction, "text": rule["text"], "points": points, "count": 1}],
                    "points_lost": points, "item_points": float(item["points"]),
                    "deadline_working_days": int(deadline["working_days"]),
                    "reinspection_required": bool(deadline["reinspection"]), "note": note,
                    "photo_ids": list(photo_ids or [])}
    raise LookupError(f"no item {item_id} in {checklist_code}")


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
    assignment = assignments.create_assignment(
        institution_id=str(institution.id), region=institution.region, team=list(team), source="draw",
        checklist_code=checklist_code, checklist_version=1, now=concluded_at, dedupe_key=f"publication:{key}",
        matters=matters)
    existing = Inspection.objects(id=assignment.id).first()
    if existing is not None:
        return existing
    submitted = state == "submitted"
    inspection = Inspection(
        id=assignment.id, code=records.next_code(institution.region, concluded_at),
        institution_id=str(institution.id), region=institution.region, team=list(team),
        checklist_code=checklist_code, checklist_version=1, state=state,
        submission_started_at=concluded_at if submitted else None, submitted_at=concluded_at if submitted else None,
        result={"score": score, "grade": grade, "grade_name": vocabulary.grade_name(grade),
                "veto_failed": [f["item_id"] for f in findings if f.get("veto")]} if submitted else {},
        findings=findings if submitted else [], created_at=concluded_at, updated_at=now)
    inspection.save(force_insert=True)
    if submitted:
        Assignment.objects(id=assignment.id).update_one(set__status="submitted")
        order = None
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
        reports.freeze_report(inspection, order)
        inspection.reload()
        hooks.run_submitted_hooks(inspection, now)  # as a submission does: the publication clock starts
    return inspection
