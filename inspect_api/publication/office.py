"""The office's side of publication: the queue's countdown in working days, and what it has published.

The publication queue shows each submitted result's 20-working-day deadline
as a number of working days left (computed here with the calendar in force,
0 = due today, negative = working days overdue) and the title of the highest
escalation step reached.  An office also needs the results it has already
published, with its own choices (photos, masked terms, notes) so that it can
revise them; those choices are the office's and never part of a public view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from inspect_api.clock import isoformat
from inspect_api.db import only
from inspect_api.dumped import date_text, text, texts
from inspect_api.publication.models import PublicationDeadline, PublishedResult
from inspect_api.publication.deadlines import tracker_view
from inspect_api.publication.public_reads import result_view
from inspect_api.publication.results import inspection_in_scope
from inspect_api.publication.sources import (as_date, institution_names, institution_names_from, require_office,
                                             working_calendar)
from inspect_api.scoping import region_range
from inspect_api.workdays import business_date


def pending_views(trackers: Iterable[PublicationDeadline], *, now: datetime, stamp_rows: list[dict] | None = None,
                  names_rows: list[dict] | None = None) -> list[dict[str, Any]]:
    """Queue entries with ``working_days_left`` and ``level_title`` (the calendar stamp's and the institution
    names' rows when the caller read them with its page, see ``deadlines.pending_publications``)."""
    today = business_date(now)
    calendar = working_calendar(stamp_rows)
    trackers = list(trackers)
    names = institution_names_from(names_rows) if names_rows is not None else \
        institution_names(t.institution_id for t in trackers)  # one query for the page
    out = []
    for tracker in trackers:
        view = tracker_view(tracker, today=today, institution_name=names.get(tracker.institution_id))
        titles = {s.code: s.title for s in tracker.steps}
        view["working_days_left"] = calendar.working_days_between(today, as_date(tracker.deadline))
        view["level_title"] = text(titles.get(tracker.level)) if tracker.level else None
        out.append(view)
    return out


def published_results(user):
    """Results published for the office's region subtree, newest first."""
    require_office(user)
    return PublishedResult.objects(__raw__={"region": region_range(user.region)}).order_by("-published_at", "-id")


# What :func:`published_view` shows: the office's list reads these alone (of the frozen public content, which is
# most of a stored result, three keys).
PUBLISHED_FIELDS = ("inspection_id", "code", "region", "score", "published_at", "deadline", "late", "revised_at",
                    "corrected_at", "photo_ids", "redact_terms", "include_notes", "snapshot__institution__name",
                    "snapshot__inspected_on", "snapshot__grade_name")


def listed_published_results(user):
    """:func:`published_results` reading only what :func:`published_view` shows."""
    return only(published_results(user), *PUBLISHED_FIELDS)


def published_view(result: PublishedResult) -> dict[str, Any]:
    """One published result as its office sees it, in ``PublishedByOfficeSchema``'s dumped form (the office's
    list sends it as it is): the public view's headline plus the office's choices and dates."""
    snap = result.snapshot or {}
    return {
        "id": str(result.id), "inspection_id": text(result.inspection_id), "code": text(result.code),
        "institution_name": text((snap.get("institution") or {}).get("name")), "region": text(result.region),
        "inspected_on": date_text(snap.get("inspected_on")), "grade_name": text(snap.get("grade_name")),
        "score": result.score, "published_at": isoformat(result.published_at),
        "deadline": as_date(result.deadline).isoformat() if result.deadline else None, "late": bool(result.late),
        "revised_at": isoformat(result.revised_at), "corrected_at": isoformat(result.corrected_at),
        "photo_ids": texts(result.photo_ids or []), "redact_terms": texts(result.redact_terms or []),
        "include_notes": bool(result.include_notes),
    }


def published_for(user, inspection_id: str) -> dict[str, Any]:
    """The published result of one inspection of the office's region, with its public content (404 if none)."""
    from inspect_api.errors import NotFound

    inspection = inspection_in_scope(user, inspection_id)
    result = PublishedResult.objects(inspection_id=str(inspection.id)).first()
    if result is None:
        raise NotFound("该检查结果尚未公开", code="RESULT_NOT_PUBLISHED")
    return {**published_view(result), "public": result_view(result)}
