"""Check-in (签到): the scanned QR token verified server-side, the GPS fix measured against the institution."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.clock import as_utc
from inspect_api.directory.qr import token_from_payload, verify_checkin_token
from inspect_api.errors import Conflict, Unprocessable
from inspect_api.inspections.models import Assignment, CheckIn, Inspection
from inspect_api.inspections.records import cancelled_conflict, ensure_inspection, lonlat, team_assignment

DEFAULT_RADIUS_M = 300.0
EARTH_RADIUS_M = 6371008.8
MAX_FIX_AGE_S = 12 * 3600  # an offline phone syncs later, but the fix must belong to the visit
MAX_FIX_AHEAD_S = 600


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_in(user, inspection_id: str, body: dict[str, Any], *, now: datetime,
             radius_m: float = DEFAULT_RADIUS_M) -> Inspection:
    """Verify the scanned QR token server-side, store the GPS fix and distance; flag beyond ``radius_m``.

    Idempotent: once checked in, a repeat returns the stored check-in.
    """
    assignment, inspector_id = team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspection.state == "submitted":
        raise Conflict("检查已提交并锁定", code="INSPECTION_LOCKED")
    institution = verify_checkin_token(token_from_payload(body["qr_token"]))
    if str(institution.id) != assignment.institution_id:
        raise Unprocessable("二维码不属于本次检查的机构", code="CHECKIN_WRONG_INSTITUTION")
    if inspection.checkin is not None:
        return inspection
    return record_checkin(user, assignment, inspection, institution, inspector_id=inspector_id,
                          client_id=str(body["client_id"]), latitude=body["latitude"], longitude=body["longitude"],
                          accuracy_m=body.get("accuracy_m"), captured_at=body["captured_at"], now=now,
                          radius_m=radius_m)


def record_checkin(user, assignment: Assignment, inspection: Inspection, institution, *, inspector_id: str,
                   client_id: str, latitude: float, longitude: float, accuracy_m: float | None,
                   captured_at: datetime, now: datetime, radius_m: float = DEFAULT_RADIUS_M) -> Inspection:
    """Store a check-in whose QR token the caller has already verified (``check_in``; the demo seeder)."""
    lon, lat = lonlat(institution)
    distance = None if lat is None else round(haversine_m(latitude, longitude, lat, lon), 1)
    reasons = []
    if distance is None:
        reasons.append("institution_location_unknown")
    elif distance > radius_m:
        reasons.append("beyond_radius")
    if accuracy_m is not None and accuracy_m > radius_m:
        reasons.append("low_accuracy")
    fix_age = (as_utc(now) - as_utc(captured_at)).total_seconds()
    if fix_age > MAX_FIX_AGE_S or fix_age < -MAX_FIX_AHEAD_S:
        reasons.append("fix_time_implausible")  # a GPS fix from long before (or after) the check-in
    checkin = CheckIn(inspector_id=inspector_id, client_id=client_id,
                      qr_version=int(getattr(institution, "qr_version", 1) or 1), latitude=latitude,
                      longitude=longitude, accuracy_m=accuracy_m, captured_at=captured_at,
                      received_at=now, distance_m=distance, radius_m=float(radius_m), flagged=bool(reasons),
                      flag_reasons=reasons)
    # The assignment first: a cancellation only takes "assigned" assignments, so
    # once this flip is done the visit can no longer be cancelled under it.
    if not Assignment.objects(id=assignment.id, status__in=("assigned", "in_progress")).update_one(
            set__status="in_progress", set__updated_at=now):
        raise cancelled_conflict()
    updated = Inspection.objects(id=inspection.id, state="assigned").update_one(
        set__state="checked_in", set__checkin=checkin, set__updated_at=now)
    inspection.reload()
    if updated:
        audit.record("inspection.checked_in", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"distance_m": distance, "flagged": bool(reasons), "flag_reasons": reasons,
                           "qr_version": checkin.qr_version}, now=now)
    return inspection
