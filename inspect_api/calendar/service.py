"""The working calendar in force: official calendar plus office overrides.

``current_calendar()`` returns a :class:`~inspect_api.workdays.WorkingCalendar`
built from the stored overrides.  It is cached per process and rebuilt when
the calendar stamp (a random token rewritten on every change) differs, so
several API and scheduler processes all see an office's correction at their
next call while an unchanged calendar costs one primary-key read.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime
from typing import Any, Iterable

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.batched import Read, read_together
from inspect_api.calendar.models import CalendarOverride, CalendarStamp, CalendarYearConfirmation
from inspect_api.errors import Forbidden, Unprocessable
from inspect_api.workdays import CalendarOverride as OverrideValue
from inspect_api.workdays import WorkingCalendar, business_date

_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "calendar": None}

# Dates outside this span are refused (typos like 0202-01-01).
MIN_YEAR, MAX_YEAR = 2000, 2100


def stamp_read() -> Read:
    """The freshness check of the cached calendar, for a caller that reads it with other reads in one round
    trip (:mod:`inspect_api.batched`) and passes its rows to :func:`current_calendar`."""
    return Read(CalendarStamp._get_collection_name(), {"_id": "calendar"}, projection={"token": 1}, limit=1)


def _stamp_token(rows: list[dict] | None = None) -> str | None:
    rows = read_together(stamp_read())[0] if rows is None else rows
    return rows[0].get("token") if rows else None


def _cache_key(stamp_rows: list[dict] | None = None) -> tuple:
    from inspect_api import db

    return (db.database().name, _stamp_token(stamp_rows))


def load_calendar() -> WorkingCalendar:
    """Build a calendar from the database (no cache)."""
    overrides = {o.date if not isinstance(o.date, datetime) else o.date.date(): OverrideValue(o.working, o.note or "")
                 for o in CalendarOverride.objects}
    years = [c.year for c in CalendarYearConfirmation.objects]
    return WorkingCalendar(overrides, confirmed_years=years)


def current_calendar(stamp_rows: list[dict] | None = None) -> WorkingCalendar:
    """The calendar in force (cached; rebuilt when an office changed it).  ``stamp_rows``: the rows of
    :func:`stamp_read` when the caller read them (this request's, never kept), else the stamp is read here."""
    key = _cache_key(stamp_rows)
    with _lock:
        if _cache["key"] == key and _cache["calendar"] is not None:
            return _cache["calendar"]
    calendar = load_calendar()
    with _lock:
        _cache["key"], _cache["calendar"] = key, calendar
    return calendar


def invalidate(now: datetime) -> None:
    """Mark the calendar changed for every process."""
    CalendarStamp.objects(id="calendar").update_one(set__token=uuid.uuid4().hex, set__changed_at=now, upsert=True)
    with _lock:
        _cache["key"], _cache["calendar"] = None, None


def list_overrides(year: int | None = None) -> list[CalendarOverride]:
    query = CalendarOverride.objects
    if year is not None:
        query = query.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    return list(query.order_by("date"))


def confirmed_years() -> list[int]:
    return sorted(c.year for c in CalendarYearConfirmation.objects)


def _check_date(d: date, field: str) -> None:
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise Unprocessable(f"日期超出可设置范围（{MIN_YEAR}–{MAX_YEAR} 年）", code="CALENDAR_DATE_OUT_OF_RANGE",
                            details={"fields": {field: [d.isoformat()]}})


def put_overrides(actor, *, items: list[dict[str, Any]], remove: Iterable[date] = (),
                  confirm_years: Iterable[int] = (), now: datetime) -> dict[str, Any]:
    """Upsert overrides, delete the ``remove`` dates, confirm years; one audit event.

    Deadlines already set are not moved (DESIGN §8): only future computations
    use the new calendar.
    """
    if actor.role != "office_admin":
        raise Forbidden("仅办公室管理员可以修改工作日历", code="ROLE_FORBIDDEN")
    items = list(items)
    remove = list(remove)
    confirm_years = sorted({int(y) for y in confirm_years})
    seen: set[date] = set()
    for item in items:
        _check_date(item["date"], "items")
        if item["date"] in seen:
            raise Unprocessable("同一日期出现多次", code="CALENDAR_DUPLICATE_DATE",
                                details={"date": item["date"].isoformat()})
        seen.add(item["date"])
    for d in remove:
        _check_date(d, "remove")
        if d in seen:
            raise Unprocessable("同一日期不能既设置又删除", code="CALENDAR_DUPLICATE_DATE",
                                details={"date": d.isoformat()})
    for y in confirm_years:
        if not MIN_YEAR <= y <= MAX_YEAR:
            raise Unprocessable("年份超出范围", code="CALENDAR_DATE_OUT_OF_RANGE", details={"year": y})
    for item in items:
        CalendarOverride.objects(date=item["date"]).update_one(
            set__working=bool(item["working"]), set__note=item.get("note") or "", set__updated_by=str(actor.id),
            set__updated_at=now, upsert=True)
    if remove:
        CalendarOverride.objects(date__in=remove).delete()
    for y in confirm_years:
        CalendarYearConfirmation.objects(year=y).update_one(set__confirmed_by=str(actor.id), set__confirmed_at=now,
                                                            upsert=True)
    invalidate(now)
    audit.record("calendar.overrides_changed", actor=actor_of(actor), target_type="calendar", target_id="national",
                 data={"set": [{"date": i["date"].isoformat(), "working": bool(i["working"]),
                                "note": i.get("note") or ""} for i in items],
                       "removed": [d.isoformat() for d in remove], "confirmed_years": confirm_years}, now=now)
    return {"set": len(items), "removed": len(remove), "confirmed_years": confirm_years}


def warnings(now: datetime, years: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Visible warnings for this year and the next (or the given years)."""
    if years is None:
        today = business_date(now)
        years = (today.year, today.year + 1)
    return [{"year": w.year, "code": w.code, "message": w.message}
            for w in current_calendar().calendar_warnings(years)]
