"""The inspection as the API shows it (with its check-in, photos, signatures, result and corrections)."""

from __future__ import annotations

from typing import Any

from inspect_api.clock import isoformat
from inspect_api.inspections.answers import response_view
from inspect_api.inspections.models import Assignment, Inspection, ItemResponse, SignatureRef
from inspect_api.inspections.records import evidence_service


def _assignment_status(inspection_id) -> str | None:
    found = Assignment.objects(id=inspection_id).only("status").first()
    return found.status if found is not None else None


def signature_view(ref: SignatureRef) -> dict[str, Any]:
    """A signature as the API shows it: who signed, who uploaded it and from which login."""
    return {"evidence_id": ref.evidence_id, "client_id": ref.client_id, "signer_role": ref.signer_role,
            "signer_name": ref.signer_name, "inspector_id": ref.inspector_id, "uploaded_by": ref.uploaded_by,
            "uploaded_session": ref.uploaded_session, "signed_at": isoformat(ref.signed_at)}


def inspection_view(inspection: Inspection, *, with_responses: bool = True) -> dict[str, Any]:
    checkin = inspection.checkin
    out = {
        "id": str(inspection.id), "assignment_id": str(inspection.id), "code": inspection.code,
        "institution_id": inspection.institution_id, "region": inspection.region, "team": list(inspection.team),
        "checklist_code": inspection.checklist_code, "checklist_version": inspection.checklist_version,
        "state": inspection.state,
        "assignment_status": _assignment_status(inspection.id),
        "checkin": None if checkin is None else {
            "inspector_id": checkin.inspector_id, "qr_version": checkin.qr_version, "latitude": checkin.latitude,
            "longitude": checkin.longitude, "accuracy_m": checkin.accuracy_m,
            "captured_at": isoformat(checkin.captured_at), "received_at": isoformat(checkin.received_at),
            "distance_m": checkin.distance_m, "radius_m": checkin.radius_m, "flagged": checkin.flagged,
            "flag_reasons": list(checkin.flag_reasons or [])},
        "signatures": [signature_view(s) for s in inspection.signatures],
        "photos": [{"id": str(p.id), "item_id": p.item_id, "client_id": p.client_id, "sha256": p.sha256,
                    "reused": bool(p.reused), "captured_at": isoformat(p.captured_at), "distance_m": p.distance_m,
                    "position_flags": list(p.position_flags or [])}
                   for p in evidence_service().for_owner("inspection", str(inspection.id), kind="photo")],
        "submitted_at": isoformat(inspection.submitted_at),
        "result": dict(inspection.result) if inspection.result else None,
        "findings": list(inspection.findings or []),
        "order_id": inspection.order_id,
        "order_number": ((inspection.report or {}).get("order") or {}).get("number"),
        "report_hash": inspection.report_hash,
        "corrections": [{"client_id": c.client_id, "at": isoformat(c.at), "by": c.by, "reason": c.reason,
                         "changes": c.changes, "score_before": c.score_before, "score_after": c.score_after}
                        for c in inspection.corrections],
    }
    if with_responses:
        out["responses"] = [response_view(r) for r in
                            ItemResponse.objects(inspection_id=str(inspection.id)).order_by("item_id")]
    return out
