"""Where a photo was taken: EXIF positions beyond the check-in radius are flagged, as check-ins are.

The pipeline reads the photo's own GPS position (``Evidence.latitude`` /
``longitude``; None without EXIF GPS, ``gps_invalid`` when unreadable).
Here it is measured against the institution's location with the same
haversine distance and radius as a check-in: farther than the radius is
``beyond_radius``.  A photo without a position is not flagged (many phones
strip it; the watermark then shows the check-in position), and neither is one
of an institution without a location (its check-in is flagged already).
"""

from __future__ import annotations

from typing import Any

from inspect_api.directory.institutions import get_institution
from inspect_api.inspections import checkin, records

BEYOND_RADIUS = "beyond_radius"


def position_check(photo, institution, radius_m: float) -> tuple[float | None, list[str]]:
    """(distance in metres or None, flag reasons) of a stored photo against ``institution``."""
    if photo.latitude is None or photo.longitude is None or institution is None:
        return None, []
    lon, lat = records.lonlat(institution)
    if lat is None:
        return None, []
    distance = round(checkin.haversine_m(photo.latitude, photo.longitude, lat, lon), 1)
    return distance, [BEYOND_RADIUS] if distance > radius_m else []


def record(photo, institution_id: str, config: dict[str, Any] | None):
    """Measure and store the position check of an inspection photo; returns the photo."""
    radius = float((config or {}).get("checkin_radius_m", checkin.DEFAULT_RADIUS_M))
    distance, flags = position_check(photo, get_institution(institution_id), radius)
    if photo.distance_m == distance and list(photo.position_flags or []) == flags:
        return photo
    return records.evidence_service().record_position_check(photo, distance_m=distance, flags=flags)
