"""The office's view of work in progress: each assignment with its inspection's state and flags.

An office watching its region's inspections wants, per assignment, what the
phone has reported so far: checked in or not, whether the check-in was
flagged (beyond the radius, poor accuracy, an implausible fix time) and how
far away it was, how many photos there are and how many of them were flagged
as reused evidence (a near-identical photo of another institution), and,
once submitted, the score, grade and rectification order.  One query for the
page's inspections and one for their photo counts.
"""

from __future__ import annotations

from typing import Any, Iterable

from inspect_api.clock import isoformat
from inspect_api.inspections.models import CHECKIN_FLAGS, Inspection
from inspect_api.inspections.assignments import assignment_views



def _summary(inspection: Inspection | None, photos: dict[str, int]) -> dict[str, Any] | None:
    if inspection is None:
        return None
    checkin = inspection.checkin
    result = inspection.result or {}
    reasons = list(checkin.flag_reasons or []) if checkin else []
    return {
        "code": inspection.code,
        "state": inspection.state,
        "checked_in_at": isoformat(checkin.received_at) if checkin else None,
        "checkin_flagged": bool(checkin and checkin.flagged),
        "checkin_flags": [{"code": r, "name": CHECKIN_FLAGS.get(r, r)} for r in reasons],
        "checkin_distance_m": checkin.distance_m if checkin else None,
        "checkin_radius_m": checkin.radius_m if checkin else None,
        "photos": photos.get("photos", 0),
        "reused_photos": photos.get("reused", 0),
        "submitted_at": isoformat(inspection.submitted_at),
        "score": result.get("score"),
        "grade": result.get("grade"),
        "order_id": inspection.order_id,
        "report_hash": inspection.report_hash,
    }


def region_assignment_views(assignments: Iterable) -> list[dict[str, Any]]:
    """Assignment views (as the phone gets them) plus ``inspection``: the office's summary, or null."""
    from inspect_api.evidence.service import photo_counts

    views = assignment_views(assignments)
    ids = [v["id"] for v in views]
    inspections = {str(i.id): i for i in Inspection.objects(id__in=ids).only(
        "id", "code", "state", "checkin", "submitted_at", "result", "order_id", "report_hash")} if ids else {}
    counts = photo_counts("inspection", list(inspections))
    return [{**v, "inspection": _summary(inspections.get(v["id"]), counts.get(v["id"], {}))} for v in views]
