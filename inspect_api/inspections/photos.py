"""Inspection photos: stored per checklist item through the evidence service, positions checked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.errors import Unprocessable
from inspect_api.inspections import photo_positions
from inspect_api.inspections.models import Inspection
from inspect_api.inspections.records import (
    content_of, ensure_inspection, evidence_service, item_index, require_writable, team_assignment)


def _checkin_position(inspection: Inspection) -> tuple[float, float] | None:
    checkin = inspection.checkin
    if checkin is None or checkin.latitude is None or checkin.longitude is None:
        return None
    return float(checkin.latitude), float(checkin.longitude)


def add_photo(user, inspection_id: str, data: bytes, *, item_id: str, client_id: str, now: datetime,
              config: dict[str, Any] | None = None):
    """Store one photo for an item (idempotent by ``client_id``); refused before check-in and after submission.

    The display image's watermark falls back to the check-in position (and the
    upload time) when the photo carries no EXIF GPS (or capture time).
    """
    assignment, inspector_id = team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    require_writable(inspection)
    if item_id not in item_index(content_of(inspection)):
        raise Unprocessable("检查表中没有该项目", code="UNKNOWN_ITEM", details={"item_id": item_id})
    evidence = evidence_service()
    known = evidence.for_owner("inspection", str(inspection.id)).filter(client_id=client_id).first()
    photo = evidence.store_photo(data, owner_type="inspection", owner_id=str(inspection.id),
                                 institution_id=inspection.institution_id, region=inspection.region,
                                 label=inspection.code, client_id=client_id, uploaded_by=str(user.id),
                                 item_id=item_id, now=now, team=list(inspection.team), config=config,
                                 fallback_gps=_checkin_position(inspection))
    photo = photo_positions.record(photo, inspection.institution_id, config)  # beyond the radius: flagged
    if known is None:
        audit.record("inspection.photo_added", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"evidence_id": str(photo.id), "item_id": item_id, "sha256": photo.sha256,
                           "reused": bool(photo.reused), "distance_m": photo.distance_m,
                           "position_flags": list(photo.position_flags or [])}, now=now)
    return photo
