"""The office's view of work in progress: each assignment with its inspection's state and flags.

An office watching its region's inspections wants, per assignment, what the
phone has reported so far: checked in or not, whether the check-in was
flagged (beyond the radius, poor accuracy, an implausible fix time) and how
far away it was, how many photos there are and how many of them were flagged
as reused evidence (a near-identical photo of another institution), and,
once submitted, the score, grade and rectification order.  The page's
inspections and photo counts are read with its institutions, in one round trip.
"""

from __future__ import annotations

from typing import Any, Iterable

from bson import ObjectId

from inspect_api.batched import Read
from inspect_api.clock import isoformat
from inspect_api.db import as_stored
from inspect_api.inspections.models import CHECKIN_FLAGS, Inspection
from inspect_api.inspections.assignments import assignment_views_with

SUMMARY_FIELDS = ("code", "state", "checkin", "submitted_at", "result", "order_id", "report_hash")
SUMMARY_ONLY = frozenset(SUMMARY_FIELDS)


def _summary(inspection: Any, photos: dict[str, int]) -> dict[str, Any] | None:
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


def region_assignment_views(assignments: Iterable, count: Read | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Assignment views (as the phone gets them) plus ``inspection``: the office's summary, or null; and the
    result of ``count`` (the page's total, when it is needed).

    The page's institutions, inspections, photo counts and total are read in one round trip."""
    from inspect_api.evidence.service import photo_counts_from, photo_counts_read

    assignments = list(assignments)
    ids = [str(a["_id"] if isinstance(a, dict) else a.id) for a in assignments]
    inspections_read = Read(Inspection._get_collection_name(), {"_id": {"$in": [ObjectId(i) for i in ids]}},
                            projection={f: 1 for f in SUMMARY_FIELDS}) if ids else None
    views, (rows, photo_rows, total) = assignment_views_with(assignments, inspections_read,
                                                             photo_counts_read("inspection", ids), count)
    inspections = {str(row["_id"]): as_stored(Inspection, row, SUMMARY_ONLY) for row in rows or []}
    counts = photo_counts_from(ids, photo_rows)
    return [{**v, "inspection": _summary(inspections.get(v["id"]), counts.get(v["id"], {}))} for v in views], total
