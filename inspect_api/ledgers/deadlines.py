"""A missed document deadline escalates on the rectification ladder (the scheduler's sweep).

The steps are those of the configured ``[[ladder]]`` (the same codes,
working-day offsets and recipients as a rectification deadline, counted from
the request's deadline; ``rectification.ladder``); the lead reviewer stands in
the lead inspector's place.  A check still ``requested`` is selected through
its indexed ``next_step_due``; each due step is claimed with one conditional
update (state still ``requested``, deadline unchanged, step code not yet in
``step_codes``), so repeated, overlapping or catching-up sweeps record every
step exactly once.  Claimed steps are then notified (inbox deduplicated by
``ledger:<check>:<step>:<deadline>``) and the first overdue step adds one
overdue event to the institution's risk profile, as an overdue finding does.
Submitting the documents stops the ladder (``next_step_due`` cleared).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Any

from inspect_api.ledgers.models import LedgerCheck
from inspect_api.workdays import business_date

log = logging.getLogger(__name__)

TITLES = {"reminder": "台账资料提交期限临近提醒", "warning": "台账资料逾期未提交警示",
          "department": "台账资料逾期未提交，升级至主管部门", "office": "台账资料逾期未提交，升级至领导小组办公室"}


def _rectification():
    from inspect_api.rectification import service as rectification

    return rectification


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def _date(v) -> date:
    return v.date() if isinstance(v, datetime) else v


def _title(step) -> str:
    if step.code in TITLES:
        return TITLES[step.code]
    days = abs(step.offset_working_days)
    if step.offset_working_days < 0:
        return f"台账资料提交期限临近（到期前 {days} 个工作日）"
    if step.offset_working_days == 0:
        return "台账资料今日到期，尚未提交"
    return f"台账资料逾期 {days} 个工作日仍未提交"


def first_step_due(deadline: date, cfg: dict[str, Any] | None = None) -> date | None:
    """When the first step of a new request's ladder falls due."""
    from inspect_api.calendar.service import current_calendar

    rectification = _rectification()
    return rectification.ladder(rectification.config(cfg)).next_due_date(deadline, [], current_calendar())


def sweep_request_deadlines(now: datetime, *, config: dict[str, Any] | None = None) -> dict[str, int]:
    """Claim every due step of unanswered requests once, notify, and count overdue risk once per check."""
    from inspect_api.calendar.service import current_calendar

    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rectification = _rectification()
    cfg = rectification.config(config)
    ladder = rectification.ladder(cfg)
    calendar = current_calendar()
    today = business_date(now)
    coll = LedgerCheck._get_collection()
    stats = {"selected": 0, "steps": 0, "notifications": 0}
    for doc in coll.find({"next_step_due": {"$lte": _dt(today)}},
                         {"_id": 1, "state": 1, "deadline": 1, "step_codes": 1, "risk_overdue_recorded": 1}):
        stats["selected"] += 1
        if doc.get("state") != "requested":
            coll.update_one({"_id": doc["_id"], "state": {"$ne": "requested"}}, {"$set": {"next_step_due": None}})
            continue
        deadline = _date(doc["deadline"])
        done = list(doc.get("step_codes") or [])
        due = ladder.due_steps(deadline, today, done, calendar)
        codes = [s.code for s in due]
        nxt = ladder.next_due_date(deadline, done + codes, calendar)
        if not due:
            coll.update_one({"_id": doc["_id"], "step_codes": done}, {"$set": {"next_step_due": _dt(nxt) if nxt else None}})
            continue
        due_on = {s.code: d for s, d in ladder.schedule(deadline, calendar)}
        records = [{"code": s.code, "title": _title(s), "due": _dt(due_on[s.code]), "at": now,
                    "deadline": _dt(deadline), "offset_working_days": s.offset_working_days,
                    "recipients": list(s.recipients), "notification_ids": []} for s in due]
        sets: dict[str, Any] = {"next_step_due": _dt(nxt) if nxt else None, "level": codes[-1],
                                "notify_pending": True, "updated_at": now}
        if any(s.offset_working_days > 0 for s in due):
            sets["overdue"] = True
            if not doc.get("risk_overdue_recorded"):
                sets.update(risk_overdue_recorded=True, risk_pending=True)
        claimed = coll.update_one(
            {"_id": doc["_id"], "state": "requested", "deadline": doc["deadline"], "step_codes": {"$nin": codes}},
            {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes},
                       "pending_steps": {"$each": codes}}, "$set": sets})
        stats["steps"] += len(codes) if claimed.modified_count else 0
    stats["notifications"] = _notify_pending(now, cfg)
    if stats["steps"]:
        log.info("ledger request sweep as of %s: %s", now.isoformat(), stats)
    return stats


def _notify_pending(now: datetime, cfg: dict[str, Any]) -> int:
    from inspect_api.ledgers.service import institution_name, notify, recipients

    coll = LedgerCheck._get_collection()
    sent = 0
    for check in LedgerCheck.objects(notify_pending=True):
        pending = list(check.pending_steps or [])
        deadline = _date(check.deadline)
        for code in pending:
            record = next((s for s in reversed(check.steps) if s.code == code and _date(s.deadline) == deadline), None)
            if record is None:
                continue
            users = [uid for role in record.recipients for uid in recipients(role, check)]
            notes = notify(users, kind="ledger.step",
                           params={"code": check.code, "step_title": record.title, "deadline": deadline.isoformat(),
                                   "institution_name": institution_name(check.institution_id)},
                           data={"ledger_check_id": str(check.id), "institution_id": check.institution_id,
                                 "step": code, "deadline": deadline.isoformat()},
                           dedupe=f"ledger:{check.id}:{code}:{deadline.isoformat()}", region=check.region, now=now,
                           config=cfg)
            sent += len(notes)
        doc = coll.find_one({"_id": check.id}, {"risk_pending": 1})
        if doc and doc.get("risk_pending") and coll.update_one({"_id": check.id, "risk_pending": True},
                                                               {"$unset": {"risk_pending": ""}}).modified_count:
            _rectification().record_risk(check.institution_id, overdue=1, now=now)
        coll.update_one({"_id": check.id, "pending_steps": pending},
                        {"$unset": {"notify_pending": "", "pending_steps": ""}})
    return sent
