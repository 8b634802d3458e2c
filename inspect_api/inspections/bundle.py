"""The offline bundle: everything the phone needs for one assignment (the checklist version is pinned here)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from inspect_api.clock import isoformat
from inspect_api.directory.institutions import get_institution
from inspect_api.errors import NotFound, Unprocessable
from inspect_api.inspections.assignments import assignment_view
from inspect_api.inspections.checkin import DEFAULT_RADIUS_M
from inspect_api.inspections.hooks import findings_of_orders, list_orders
from inspect_api.inspections.models import SIGNER_ROLES, Inspection
from inspect_api.inspections.records import (
    assignment_for, checklist_version, ensure_inspection, fix_checklist_version, inspection_for, lonlat, team_view)


def _institution_view(institution) -> dict[str, Any]:
    lon, lat = lonlat(institution)
    from inspect_api.directory.models import INSTITUTION_KINDS

    return {"id": str(institution.id), "public_id": institution.public_id, "name": institution.name,
            "kind": institution.kind, "kind_name": INSTITUTION_KINDS.get(institution.kind, institution.kind),
            "region": institution.region, "address": institution.address,
            "latitude": lat, "longitude": lon, "contact_name": institution.contact_name,
            "contact_phone": institution.contact_phone}


def previous_result(institution_id: str, exclude_id) -> dict[str, Any] | None:
    previous = (Inspection.objects(institution_id=institution_id, state="submitted", id__ne=exclude_id)
                .order_by("-submitted_at").only("id", "code", "submitted_at", "result", "findings", "order_id")
                .as_pymongo().first())  # the stored fields shown: no document built
    if previous is None:
        return None
    result = previous.get("result") or {}
    return {"inspection_id": str(previous["_id"]), "code": previous.get("code"),
            "submitted_at": isoformat(previous.get("submitted_at")), "score": result.get("score"),
            "grade": result.get("grade"), "grade_name": result.get("grade_name"),
            "findings": len(previous.get("findings") or []), "order_id": previous.get("order_id")}


def _open_findings(institution_id: str, region: str) -> list[dict[str, Any]]:
    """Unresolved findings of the institution's open rectification orders (any team's), for the bundle.

    Read through ``rectification.service.list_orders`` / ``findings_of_orders`` (two queries) with the
    scope of the institution's own region: the caller already holds the
    assignment, which entitles it to the institution's open findings.
    """
    from types import SimpleNamespace

    scope = SimpleNamespace(role="office_admin", region=region)
    out = []
    orders = list(list_orders(scope, status="open", institution_id=institution_id).limit(20))
    findings = findings_of_orders(orders)
    for order in orders:
        for f in findings[str(order.id)]:
            if f.status in ("accepted", "withdrawn"):
                continue
            out.append({"order_id": str(order.id), "order_number": order.number, "finding_id": str(f.id),
                        "item_id": f.item_id, "item_text": f.item_text, "severity": f.severity, "status": f.status,
                        "deadline": f.deadline.isoformat() if f.deadline else None,
                        "reinspection_required": bool(f.reinspection_required),
                        "photos": [{"id": pid, "thumb_url": f"/api/v1/photos/{pid}/thumb"}
                                   for pid in f.photo_ids or []]})
    return out


def bundle(user, assignment_id: str, *, now: datetime, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the phone needs offline for one assignment (the checklist version is pinned here).

    A cancelled assignment still answers (``assignment.status`` says
    ``cancelled``) so that a phone holding it learns why its writes are refused.
    """
    config = config or {}
    assignment = assignment_for(user, assignment_id)
    assignment = fix_checklist_version(assignment, now=now)
    if assignment.status == "cancelled":  # still readable (shows the status); starts nothing
        inspection = inspection_for(user, assignment_id, now=now)
    else:
        inspection = ensure_inspection(assignment, now=now)
    institution = get_institution(assignment.institution_id)
    if institution is None:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    version = checklist_version(assignment.checklist_code, assignment.checklist_version)
    if version is None:
        raise Unprocessable("检查表版本不存在", code="CHECKLIST_NOT_FOUND")
    lon, lat = lonlat(institution)
    return {
        "assignment": {**assignment_view(assignment), "institution_name": institution.name},
        "inspection": {"id": str(inspection.id), "code": inspection.code, "state": inspection.state},
        "institution": _institution_view(institution),
        "team": team_view(assignment.team),
        "checklist": {"code": version["code"], "version": version["version"],
                      "content_hash": version["content_hash"], "content": version["content"]},
        "previous_result": previous_result(assignment.institution_id, assignment.id),
        "open_findings": _open_findings(assignment.institution_id, assignment.region),
        "checkin_rules": {"qr_required": True, "radius_m": float(config.get("checkin_radius_m", DEFAULT_RADIUS_M)),
                          "latitude": lat, "longitude": lon,
                          "note": "扫描机构门口张贴的二维码并上报定位；超出半径的签到会被标记"},
        "signature_roles": [{"role": k, "name": v} for k, v in SIGNER_ROLES.items()],
    }


def bundle_etag(data: dict[str, Any]) -> str:
    """A strong validator of a bundle; the checklist counts by its content hash (it is most of the bytes)."""
    checklist = data.get("checklist") or {}
    data = {**data, "checklist": {k: v for k, v in checklist.items() if k != "content"}}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'
