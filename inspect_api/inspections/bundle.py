"""The offline bundle: everything the phone needs for one assignment (the checklist version is pinned here)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from inspect_api import db
from inspect_api.batched import Read, read_together
from inspect_api.clock import isoformat
from inspect_api.directory.inspectors import inspector_cards_from, inspector_cards_read
from inspect_api.directory.models import Institution
from inspect_api.errors import NotFound, Unprocessable
from inspect_api.inspections.assignments import StoredAssignment, assignment_view
from inspect_api.inspections.checkin import DEFAULT_RADIUS_M
from inspect_api.inspections.hooks import orders_query, owed_findings_read
from inspect_api.inspections.models import SIGNER_ROLES, Assignment, Inspection
from inspect_api.inspections.records import (
    checklist_version, ensure_inspection, fix_checklist_version, inspection_for, lonlat, stored_assignment_for,
    team_view)


# The institution's fields the bundle shows (read as stored: building the document cost more than the read).
_INSTITUTION_FIELDS = ("public_id", "name", "kind", "region", "address", "location", "contact_name", "contact_phone")


def _institution_view(stored: dict[str, Any]) -> dict[str, Any]:
    from inspect_api.directory.models import INSTITUTION_KINDS

    lon, lat = lonlat(stored)
    return {"id": str(stored["_id"]), "public_id": stored.get("public_id"), "name": stored.get("name"),
            "kind": stored.get("kind"), "kind_name": INSTITUTION_KINDS.get(stored.get("kind"), stored.get("kind")),
            "region": stored.get("region"), "address": stored.get("address"),
            "latitude": lat, "longitude": lon, "contact_name": stored.get("contact_name"),
            "contact_phone": stored.get("contact_phone")}


def _previous_read(institution_id: str, exclude_id) -> Read:
    """The institution's latest other submitted inspection (the stored fields shown: no document built), joined
    on the institution's index."""
    return Read(Inspection._get_collection_name(),
                {"_id": {"$ne": exclude_id}, "institution_id": institution_id, "state": "submitted"},
                projection={"code": 1, "submitted_at": 1, "result": 1, "findings": 1, "order_id": 1},
                sort=(("submitted_at", -1),), limit=1, key="institution_id")


def _previous_view(rows: list[dict]) -> dict[str, Any] | None:
    previous = rows[0] if rows else None
    if previous is None:
        return None
    result = previous.get("result") or {}
    return {"inspection_id": str(previous["_id"]), "code": previous.get("code"),
            "submitted_at": isoformat(previous.get("submitted_at")), "score": result.get("score"),
            "grade": result.get("grade"), "grade_name": result.get("grade_name"),
            "findings": len(previous.get("findings") or []), "order_id": previous.get("order_id")}


def _open_orders_read(institution_id: str, region: str) -> Read:
    """The institution's open rectification orders (any team's, the newest 20), read through
    ``rectification.service.orders_query`` with the scope of the institution's own region: the caller already
    holds the assignment, which entitles it to the institution's open findings."""
    scope = SimpleNamespace(role="office_admin", region=region)
    return orders_query(scope, status="open", institution_id=institution_id).page(1, 20)[0]


# The fields of a finding the bundle shows (read as stored: building the documents was half a bundle's cost).
_FINDING_FIELDS = ("item_id", "item_text", "severity", "status", "deadline", "reinspection_required", "photo_ids")


def _open_findings(order_rows: list[dict]) -> list[dict[str, Any]]:
    """The findings still owed of these open orders, for the bundle: by order (newest first), then seq."""
    if not order_rows:
        return []
    numbers = {str(row["_id"]): row.get("number") for row in order_rows}
    by_order: dict[str, list[dict]] = {order_id: [] for order_id in numbers}
    for stored in read_together(owed_findings_read(list(numbers), _FINDING_FIELDS))[0]:
        by_order[stored["order_id"]].append(stored)
    return [{"order_id": order_id, "order_number": numbers[order_id], "finding_id": str(f["_id"]),
             "item_id": f.get("item_id"), "item_text": f.get("item_text"), "severity": f.get("severity"),
             "status": f.get("status"), "deadline": f["deadline"].date().isoformat() if f.get("deadline") else None,
             "reinspection_required": bool(f.get("reinspection_required")),
             "photos": [{"id": pid, "thumb_url": f"/api/v1/photos/{pid}/thumb"} for pid in f.get("photo_ids") or []]}
            for order_id, findings in by_order.items() for f in findings]


def bundle(user, assignment_id: str, *, now: datetime, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the phone needs offline for one assignment (the checklist version is pinned here).

    A cancelled assignment still answers (``assignment.status`` says
    ``cancelled``) so that a phone holding it learns why its writes are refused.
    """
    config = config or {}
    stored = stored_assignment_for(user, assignment_id)  # read as stored: building the document cost a tenth
    assignment = (StoredAssignment(stored) if stored.get("checklist_version")
                  else fix_checklist_version(Assignment._from_son(stored), now=now))  # first build: pins it
    # What the assignment names, read in one round trip: its inspection, institution, team, the institution's
    # previous result and open orders (their findings are one more read, when there are any).
    oid = db.parse_oid(assignment.institution_id)
    inspection_rows, institution_rows, cards, previous, orders = read_together(
        Read(Inspection._get_collection_name(), {"_id": assignment.id}, projection={"code": 1, "state": 1}, limit=1),
        Read(Institution._get_collection_name(), {"_id": oid}, projection=dict.fromkeys(_INSTITUTION_FIELDS, 1),
             limit=1) if oid else None,
        inspector_cards_read(assignment.team), _previous_read(assignment.institution_id, assignment.id),
        _open_orders_read(assignment.institution_id, assignment.region))
    if inspection_rows:
        stored = inspection_rows[0]
        inspection = {"id": str(stored["_id"]), "code": stored.get("code"), "state": stored.get("state")}
    else:
        started = (inspection_for(user, assignment_id, now=now) if assignment.status == "cancelled"  # starts nothing
                   else ensure_inspection(assignment, now=now))
        inspection = {"id": str(started.id), "code": started.code, "state": started.state}
    if not institution_rows:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    institution = _institution_view(institution_rows[0])
    version = checklist_version(assignment.checklist_code, assignment.checklist_version)
    if version is None:
        raise Unprocessable("检查表版本不存在", code="CHECKLIST_NOT_FOUND")
    return {
        "assignment": {**assignment_view(assignment), "institution_name": institution["name"]},
        "inspection": inspection,
        "institution": institution,
        "team": team_view(assignment.team, inspector_cards_from(cards)),
        "checklist": {"code": version["code"], "version": version["version"],
                      "content_hash": version["content_hash"], "content": version["content"]},
        "previous_result": _previous_view(previous),
        "open_findings": _open_findings(orders),
        "checkin_rules": {"qr_required": True, "radius_m": float(config.get("checkin_radius_m", DEFAULT_RADIUS_M)),
                          "latitude": institution["latitude"], "longitude": institution["longitude"],
                          "note": "扫描机构门口张贴的二维码并上报定位；超出半径的签到会被标记"},
        "signature_roles": [{"role": k, "name": v} for k, v in SIGNER_ROLES.items()],
    }


def bundle_etag(text: str) -> str:
    """A strong validator of a bundle from its encoded text without the checklist content (which the text names
    by its code, version and content hash: it is most of the bytes, and encoded once per version)."""
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'
