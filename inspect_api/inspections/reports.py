"""The inspection report: its frozen content and hash, public verification, printable images."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from inspect_api.clock import isoformat
from inspect_api.db import parse_oid
from inspect_api.directory.institutions import get_institution
from inspect_api.errors import Conflict
from inspect_api.inspections.hooks import findings_of
from inspect_api.inspections.models import Inspection
from inspect_api.inspections.records import evidence_service, inspection_for, team_view


def content_hash(report: dict[str, Any]) -> str:
    canonical = json.dumps(report, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def order_summary(order) -> dict[str, Any]:
    """Number and per-finding deadlines of a rectification order, as printed on the report
    (findings withdrawn by a correction are left out)."""
    findings = []
    for f in findings_of(order):
        if f.status == "withdrawn":
            continue
        findings.append({"seq": f.seq, "item_id": f.item_id, "severity": f.severity,
                         "deadline": f.deadline.isoformat() if f.deadline else None,
                         "deadline_working_days": f.deadline_working_days})
    return {"id": str(order.id), "number": getattr(order, "number", None), "findings": findings}


def build_report(inspection: Inspection, order: dict[str, Any] | None) -> dict[str, Any]:
    """The report's content (what is printed and hashed); photos and signatures by SHA-256."""
    institution = get_institution(inspection.institution_id)
    evidence = evidence_service()
    stored_photos = list(evidence.for_owner("inspection", str(inspection.id), kind="photo"))
    photos = {str(p.id): p.sha256 for p in stored_photos}
    positions = {str(p.id): (p.distance_m, list(p.position_flags or []), p.item_id) for p in stored_photos}
    signatures = {str(s.id): s.sha256 for s in evidence.for_owner("inspection", str(inspection.id), kind="signature")}
    deadlines = {f["item_id"]: f.get("deadline") for f in (order or {}).get("findings", [])}
    return {
        "inspection_id": str(inspection.id), "code": inspection.code,
        "institution": {"id": inspection.institution_id, "name": institution.name if institution else None,
                        "address": institution.address if institution else None,
                        "credit_code": institution.credit_code if institution else None},
        "team": team_view(list(inspection.team)),
        "checklist": {"code": inspection.checklist_code, "version": inspection.checklist_version,
                      "content_hash": inspection.content_hash},
        "checked_in_at": isoformat(inspection.checkin.received_at) if inspection.checkin else None,
        "checkin_distance_m": inspection.checkin.distance_m if inspection.checkin else None,
        "checkin_flagged": inspection.checkin.flagged if inspection.checkin else None,
        "concluded_at": isoformat(inspection.submission_started_at),
        "result": dict(inspection.result or {}),
        "findings": [{**{k: f.get(k) for k in ("item_id", "item_text", "clause", "severity", "points_lost",
                                               "deadline_working_days", "reinspection_required", "note",
                                               "deductions")},
                      "deadline": deadlines.get(f.get("item_id")),
                      "photos": [{"id": pid, "sha256": photos.get(pid), "distance_m": positions.get(pid, (None,))[0],
                                  "position_flags": positions.get(pid, (None, []))[1]}
                                 for pid in f.get("photo_ids", [])]}
                     for f in inspection.findings or []],
        "photos_beyond_radius": [{"id": pid, "item_id": item_id, "distance_m": distance, "flags": flags}
                                 for pid, (distance, flags, item_id) in positions.items() if flags],
        "order": order,
        "signatures": [{"role": s.signer_role, "name": s.signer_name, "evidence_id": s.evidence_id,
                        "sha256": signatures.get(s.evidence_id), "signed_at": isoformat(s.signed_at),
                        "uploaded_by": s.uploaded_by, "uploader": _account_name(s.uploaded_by),
                        "session_id": s.uploaded_session}
                       for s in inspection.signatures],
        "corrections": [{"at": isoformat(c.at), "reason": c.reason, "changes": c.changes,
                         "score_before": c.score_before, "score_after": c.score_after}
                        for c in inspection.corrections],
    }


def freeze_report(inspection: Inspection, order=None) -> None:
    """Freeze the report of a submitted inspection and its hash (as submission does; builders use it)."""
    report = build_report(inspection, order_summary(order) if order is not None else None)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))


def verify_report(inspection_id: str, presented_hash: str | None) -> dict[str, Any] | None:
    """Public verification: the report's facts when ``presented_hash`` equals the stored hash, else None.

    A wrong hash and an unknown id answer the same, so the page cannot be used
    to probe which institutions were inspected.
    """
    import hmac

    oid = parse_oid(inspection_id)
    inspection = Inspection.objects(id=oid, state="submitted").first() if oid else None
    if inspection is None or not presented_hash or not inspection.report_hash:
        return None
    if not hmac.compare_digest(presented_hash.encode("ascii", "replace"), inspection.report_hash.encode("ascii")):
        return None
    report = inspection.report or {}
    return {"code": inspection.code, "institution_name": (report.get("institution") or {}).get("name"),
            "concluded_at": inspection.submitted_at, "report_hash": inspection.report_hash, "matches": True,
            "corrections": len(inspection.corrections)}


def report_for(user, inspection_id: str, *, now: datetime) -> Inspection:
    inspection = inspection_for(user, inspection_id, now=now)
    if inspection.state != "submitted" or not inspection.report:
        raise Conflict("检查尚未提交，暂无检查报告", code="REPORT_NOT_READY")
    return inspection


def _account_name(user_id: str | None) -> str | None:
    from inspect_api.auth.service import find_user

    user = find_user(user_id) if user_id else None
    return (user.display_name or user.username) if user is not None else None


def report_images(inspection: Inspection) -> dict[str, str]:
    """Photo thumbnails and signatures of a report as data: URIs (a printed page sends no bearer token)."""
    import base64

    evidence = evidence_service()
    out = {}
    for item in evidence.for_owner("inspection", str(inspection.id)):
        data, content_type, _etag = evidence.variant_bytes(item, "thumb" if item.kind == "photo" else "display")
        out[str(item.id)] = f"data:{content_type};base64," + base64.b64encode(data).decode("ascii")
    return out
