"""The publication deadline: a clock per submitted inspection, escalated through the rectification ladder.

:func:`sweep_publication_deadlines` escalates unpublished results through the
same ladder as rectification deadlines (the configured ``[[ladder]]``,
:func:`publication_ladder`), each step exactly once; the submission hook
(:func:`on_inspection_submitted`) starts the clock.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from mongoengine.errors import NotUniqueError

from inspect_api.batched import Read, count_unless_known, page_reads, paged, read_together
from inspect_api.clock import as_utc, isoformat
from inspect_api.dumped import text
from inspect_api.db import as_stored
from inspect_api.publication.models import PublicationDeadline, PublishedResult, StepRecord
from inspect_api.publication.notices import complete_notice_numbers
from inspect_api.publication.sources import (
    as_date, calendar_stamp_read, get_institution, inspection_model, institution_names_read, require_office,
    resolved_config, utc_midnight, working_calendar)
from inspect_api.rectification.ladder import Ladder, LadderStep
from inspect_api.scoping import region_range
from inspect_api.workdays import business_date

log = logging.getLogger(__name__)


# Labels come from the one vocabulary (inspect_api.vocabulary); views map codes to names when they are read,
# so results published before a wording change read like everything else.
DEFAULT_DEADLINE_DAYS = 20
# The publication deadline is escalated through the rectification ladder (``[[ladder]]``): the same steps at
# the same working-day offsets, counted from the publication deadline.  A result has no institution or lead
# inspector to remind, so their places go to the office of the inspection's region.
RECIPIENT_OFFICES = {"institution": "county_office", "lead_inspector": "county_office",
                     "county_office": "county_office", "department": "department",
                     "leadership_office": "leadership_office"}
PUBLICATION_TITLES = {"reminder": "检查结果公开期限临近提醒", "warning": "检查结果逾期未公开警示",
                      "department": "检查结果逾期未公开，升级至主管部门",
                      "office": "检查结果逾期未公开，升级至领导小组办公室"}
OFFICE_RECIPIENTS = ("county_office", "department", "leadership_office")
TEMPLATES = {
    "publication.reminder": ("检查结果公开期限临近：{code}",
                             "{institution_name} 的检查（{code}）结果应于 {deadline} 前公开，距到期已不超过 {days} 个工作日，请尽快审核发布。"),
    "publication.warning": ("检查结果逾期未公开：{code}",
                            "{institution_name} 的检查（{code}）结果已超过公开期限（{deadline}）仍未公开，请立即发布。"),
    "publication.department": ("检查结果逾期未公开，升级至主管部门：{code}",
                               "{institution_name} 的检查（{code}）结果逾期已达 {days} 个工作日仍未公开（期限 {deadline}），请主管部门督办。"),
    "publication.office": ("检查结果逾期未公开，升级至领导小组办公室：{code}",
                           "{institution_name} 的检查（{code}）结果逾期已达 {days} 个工作日仍未公开（期限 {deadline}）。"),
    "publication.step": ("{step_title}：{code}", "{institution_name} 的检查（{code}），公开期限 {deadline}：{step_title}。"),
}


def _register_templates() -> None:
    """Add the publication message templates to the notify module's table (keys ``publication.*`` only)."""
    from inspect_api.notify import templates

    for kind, pair in TEMPLATES.items():
        templates.TEMPLATES.setdefault(kind, pair)


_register_templates()


def _recipients(role: str, tracker: PublicationDeadline) -> list[str]:
    from inspect_api.rectification import service as rectification

    if role not in OFFICE_RECIPIENTS:
        return []
    return rectification.recipients(role, SimpleNamespace(region=tracker.region, institution_id=tracker.institution_id,
                                                          lead_inspector_id=None))


def _notify(users, **kwargs):
    from inspect_api.notify import service as notify

    return notify.notify(users, **kwargs)


def deadline_days(cfg: dict[str, Any] | None = None) -> int:
    return int(resolved_config(cfg).get("publication_deadline_working_days") or DEFAULT_DEADLINE_DAYS)


def _publication_title(step: LadderStep) -> str:
    if step.code in PUBLICATION_TITLES:
        return PUBLICATION_TITLES[step.code]
    days = abs(step.offset_working_days)
    if step.offset_working_days < 0:
        return f"检查结果公开期限临近提醒（到期前 {days} 个工作日）"
    if step.offset_working_days == 0:
        return "检查结果今日到期，尚未公开"
    return f"检查结果逾期 {days} 个工作日仍未公开"


@lru_cache(maxsize=32)
def _derived_ladder(source: Ladder) -> Ladder:
    return Ladder(tuple(LadderStep(code=st.code, offset_working_days=st.offset_working_days,
                                   recipients=tuple(dict.fromkeys(RECIPIENT_OFFICES[r] for r in st.recipients)),
                                   title=_publication_title(st))
                        for st in source.steps))


def publication_ladder(cfg: dict[str, Any] | None = None) -> Ladder:
    """The publication deadline's ladder, derived from the configured rectification ladder (``[[ladder]]``):
    same codes and offsets, recipients mapped to offices (:data:`RECIPIENT_OFFICES`), publication titles, no
    notice pre-selection (there is no finding to cite)."""
    from inspect_api.rectification import service as rectification

    return _derived_ladder(rectification.ladder(resolved_config(cfg)))


def ensure_tracker(inspection, *, now: datetime, config: dict[str, Any] | None = None) -> PublicationDeadline:
    """The publication-deadline tracker of a submitted inspection (created once)."""
    tracker = PublicationDeadline.objects(inspection_id=str(inspection.id)).first()
    if tracker is not None:
        return tracker
    concluded = as_utc(inspection.submitted_at or inspection.submission_started_at)
    calendar = working_calendar()
    deadline = calendar.add_working_days(business_date(concluded), deadline_days(config))
    published = PublishedResult.objects(inspection_id=str(inspection.id)).only("published_at").first()
    tracker = PublicationDeadline(
        inspection_id=str(inspection.id), code=inspection.code, institution_id=inspection.institution_id,
        region=inspection.region, concluded_at=concluded, deadline=deadline,
        published_at=published.published_at if published else None,
        next_step_due=None if published else publication_ladder(config).next_due_date(deadline, [], calendar),
        created_at=now)
    try:
        tracker.save(force_insert=True)
    except NotUniqueError:
        tracker = PublicationDeadline.objects.get(inspection_id=str(inspection.id))
    return tracker


def on_inspection_submitted(inspection, now: datetime) -> None:
    """Submission hook: start the publication clock (idempotent)."""
    ensure_tracker(inspection, now=now)


SYNC_WINDOW = timedelta(days=90)  # longer than 20 working days plus any holiday season


SYNC_CHUNK = 1000


def _recent_submissions_read(now: datetime) -> Read:
    return Read(inspection_model()._get_collection_name(),
                {"state": "submitted", "submitted_at": {"$gte": now - SYNC_WINDOW}}, projection={"_id": 1})


def _trackers_of_read(ids: list) -> Read | None:
    return Read(PublicationDeadline._get_collection_name(), {"inspection_id": {"$in": [str(i) for i in ids]}},
                projection={"inspection_id": 1}, key="inspection_id") if ids else None


def _create_missing(ids: list, known_rows: list[dict] | None, *, now: datetime, config: dict[str, Any] | None) -> int:
    """Trackers for the inspections among ``ids`` (one chunk) that have none; returns how many were created."""
    known = {t["inspection_id"] for t in known_rows or []}
    created = 0
    for oid in ids:
        if str(oid) in known:
            continue
        inspection = inspection_model().objects(id=oid).first()
        if inspection is not None and (inspection.submitted_at or inspection.submission_started_at):
            ensure_tracker(inspection, now=now, config=config)
            created += 1
    return created


def _sync_rest(ids: list, *, now: datetime, config: dict[str, Any] | None) -> int:
    """The catch-up for ``ids`` chunk by chunk (a chunk's trackers in one read)."""
    created = 0
    for start in range(0, len(ids), SYNC_CHUNK):
        chunk = ids[start:start + SYNC_CHUNK]
        created += _create_missing(chunk, read_together(_trackers_of_read(chunk))[0], now=now, config=config)
    return created


def sync_trackers(*, now: datetime, config: dict[str, Any] | None = None) -> int:
    """Safety net behind the submission hook: create trackers for recently submitted inspections that
    have none (e.g. a crash between the state flip and the hook); returns how many were created."""
    ids = [d["_id"] for d in read_together(_recent_submissions_read(now))[0]]
    return _sync_rest(ids, now=now, config=config)


def pending_query(user):
    """Submitted, not yet published results of the office's region, earliest publication deadline first."""
    require_office(user)
    return PublicationDeadline.objects(__raw__={"region": region_range(user.region), "published_at": None}).order_by(
        "deadline", "id").hint([("published_at", 1), ("deadline", 1), ("_id", 1), ("region", 1)])


def pending_publications(user, *, page: int, per_page: int) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """A page of the publication queue (``paginate``'s dict of trackers), with the calendar stamp's and the
    page's institution names' rows for its views: the page, then its names with the stamp and its total.

    A submission's tracker comes from the submission hook (run again by a replayed submission); the
    scheduled sweep's :func:`sync_trackers` catches any other.  The page does not scan recent submissions
    itself: that read is province-wide and would grow with every view."""
    page_read, count_read = page_reads(pending_query(user), page, per_page)
    rows, = read_together(page_read)
    stamp, names, total = read_together(
        calendar_stamp_read(), institution_names_read(r["institution_id"] for r in rows),
        count_unless_known(count_read, rows, page, per_page))
    trackers = [as_stored(PublicationDeadline, row) for row in rows]  # only read: no documents built
    return paged(trackers, total, page, per_page), stamp, names


def tracker_view(tracker: PublicationDeadline, *, today: date, institution_name: str | None) -> dict[str, Any]:
    """One entry of the publication queue in ``PendingPublicationSchema``'s dumped form (``institution_name``
    read by the caller, for a page at once)."""
    return {"inspection_id": text(tracker.inspection_id), "code": text(tracker.code),
            "institution_id": text(tracker.institution_id), "institution_name": text(institution_name),
            "region": text(tracker.region), "concluded_at": isoformat(tracker.concluded_at),
            "deadline": as_date(tracker.deadline).isoformat(), "overdue": today > as_date(tracker.deadline),
            "level": text(tracker.level),
            "steps": [{"code": text(s.code), "title": text(s.title), "due": as_date(s.due).isoformat(),
                       "at": isoformat(s.at)} for s in tracker.steps]}


def sweep_publication_deadlines(now: datetime, *, config: dict[str, Any] | None = None) -> dict[str, int]:
    """Escalate unpublished results past their publication deadline; each ladder step exactly once.

    Idempotent and safe to run concurrently: a step is claimed with one
    conditional update (``published_at`` unset and the step code not yet in
    ``step_codes``), and inbox notifications are deduplicated by
    ``publication:<tracker>:<step>``.  Catches up after downtime.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ladder = publication_ladder(config)
    calendar = working_calendar()
    today = business_date(now)
    stats = {"trackers_created": sync_trackers(now=now, config=config), "selected": 0, "steps": 0,
             "notifications": 0}
    coll = PublicationDeadline._get_collection()
    for doc in coll.find({"next_step_due": {"$lte": utc_midnight(today)}},
                         {"_id": 1, "deadline": 1, "step_codes": 1, "published_at": 1}):
        stats["selected"] += 1
        if doc.get("published_at") is not None:
            coll.update_one({"_id": doc["_id"]}, {"$set": {"next_step_due": None}})
            continue
        deadline = as_date(doc["deadline"])
        done = list(doc.get("step_codes") or [])
        due = ladder.due_steps(deadline, today, done, calendar)
        if not due:
            continue
        codes = [s.code for s in due]
        nxt = ladder.next_due_date(deadline, done + codes, calendar)
        records = [StepRecord(code=s.code, title=s.title, due=calendar.add_working_days(deadline, s.offset_working_days)
                              if s.offset_working_days else deadline, at=now, offset_working_days=s.offset_working_days,
                              recipients=list(s.recipients)).to_mongo().to_dict() for s in due]
        for r in records:
            r["due"] = utc_midnight(as_date(r["due"]))
        sets: dict[str, Any] = {"next_step_due": utc_midnight(nxt) if nxt else None, "level": codes[-1],
                                "notify_pending": True}
        if any(s.offset_working_days > 0 for s in due):
            sets["overdue"] = True
        claimed = coll.update_one(
            {"_id": doc["_id"], "published_at": None, "step_codes": {"$nin": codes}},
            {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes}, "pending_steps": {"$each": codes}},
             "$set": sets})
        stats["steps"] += len(codes) if claimed.modified_count else 0
    stats["notifications"] = _write_pending_notifications(now, config=config)
    stats["notices_numbered"] = complete_notice_numbers()
    log.info("publication sweep as of %s: %s", now.isoformat(), stats)
    return stats


def _write_pending_notifications(now: datetime, *, config: dict[str, Any] | None = None) -> int:
    sent = 0
    for tracker in PublicationDeadline.objects(notify_pending=True):
        pending = list(tracker.pending_steps or [])
        records = {s.code: s for s in tracker.steps}
        institution = get_institution(tracker.institution_id)
        for code in pending:
            record = records.get(code)
            if record is None:
                continue
            users: list[str] = []
            for role in record.recipients:
                users.extend(_recipients(role, tracker))
            kind = f"publication.{code}" if f"publication.{code}" in TEMPLATES else "publication.step"
            notes = _notify(users, kind=kind,
                            params={"code": tracker.code or tracker.inspection_id, "step_title": record.title,
                                    "days": abs(record.offset_working_days)
                                    if record.offset_working_days is not None else "",
                                    "deadline": as_date(tracker.deadline).isoformat(),
                                    "institution_name": getattr(institution, "name", "被检查机构")},
                            data={"inspection_id": tracker.inspection_id, "institution_id": tracker.institution_id,
                                  "step": code, "deadline": as_date(tracker.deadline).isoformat()},
                            dedupe=f"publication:{tracker.id}:{code}", region=tracker.region, now=now,
                            config=resolved_config(config))
            sent += len(notes)
            PublicationDeadline._get_collection().update_one(
                {"_id": tracker.id, "steps.code": code},
                {"$set": {"steps.$.notification_ids": [str(n.id) for n in notes]}})
        PublicationDeadline._get_collection().update_one(
            {"_id": tracker.id, "pending_steps": pending}, {"$unset": {"notify_pending": "", "pending_steps": ""}})
    return sent
