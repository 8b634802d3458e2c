"""The escalation sweep: apply every due ladder step exactly once.

``run_sweep(now)``:

1. **Select** findings whose indexed ``next_step_due`` is on or before
   today's business date (Asia/Shanghai) — the only query over the large
   collection, served by the ``next_step_due`` index.
2. **Claim** each finding's due steps with one conditional update per finding
   (sent as unordered bulk writes): the filter requires the finding to be
   still escalating, its deadline unchanged and *none* of the step codes
   already in ``step_codes`` (the guard of the current deadline); the update
   pushes the step records, sets
   ``next_step_due``, ``level``, ``overdue``/``preselected_for_notice`` and
   marks the finding ``notify_pending`` with the claimed codes.  Two sweeps
   racing on the same finding cannot both match, so a step is recorded once
   whatever runs concurrently, repeatedly or after a restart; a sweep after
   downtime sees every missed step as due and claims them all in that update.
3. **Inbox**: for every finding marked ``notify_pending`` (claimed now, or left
   so by a sweep that crashed after claiming), write the inbox notifications
   of its pending steps — idempotent by ``step:<finding>:<code>:<deadline>:<user>``,
   so a step is notified once per deadline (a new deadline re-arms the ladder:
   :func:`inspect_api.rectification.service.move_deadline`) —
   record the overdue risk event once, then clear the mark.
4. **Channels**: attempt due webhook / e-mail deliveries with a short timeout
   and a time budget; failures are retried by later sweeps with backoff.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import date, datetime, timezone
from typing import Any

from pymongo import UpdateOne

from inspect_api import db
from inspect_api.calendar.service import current_calendar
from inspect_api.directory.institutions import institution_names
from inspect_api.notify import service as notify
from inspect_api.notify.templates import TEMPLATES
from inspect_api.observability import SWEEP_DURATION
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import ESCALATING, SETTLED, Finding
from inspect_api.workdays import business_date

log = logging.getLogger(__name__)

STATE_ID = "sweep"


def _dt(d: date) -> datetime:
    """A business date as MongoDB stores DateField values (midnight UTC)."""
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def _date(v) -> date:
    return v.date() if isinstance(v, datetime) else v


ID_INDEX = [("_id", 1)]


def _bulk_update(coll, ops: list[tuple[dict, dict]]) -> int:
    """Unordered bulk of conditional updates; returns how many documents they modified.

    The embedded stand-in's bulk_write does not accept current pymongo
    operations, so there each update is sent on its own (same semantics).
    """
    from inspect_api import db

    if db.is_embedded():
        return sum(coll.update_one(f, u).modified_count for f, u in ops)
    # Each filter names one document by _id (plus its guards): the hint keeps every update a point
    # look-up even on a server whose planner would scan for a filter of several fields.
    return coll.bulk_write([UpdateOne(f, u, hint=ID_INDEX if "_id" in f else None) for f, u in ops],
                           ordered=False).modified_count


def pending_token(code: str, deadline: date) -> str:
    """A claimed step awaiting its inbox notifications: the step code and the deadline it is for."""
    return f"{code}@{deadline.isoformat()}"


def _pending_record(steps: list[dict[str, Any]], token: str) -> tuple[dict[str, Any] | None, str]:
    """The step record a pending token names, and its notification dedupe prefix.

    A step is notified once per (step, deadline): a new deadline re-arms the
    ladder and its steps get their own notifications.  A token without a
    deadline (claimed before deadlines were part of it) names the latest
    record of that code and keeps that era's dedupe key.
    """
    code, _, day = token.partition("@")
    for record in reversed(steps):
        if record.get("code") == code and (not day or _date(record["deadline"]).isoformat() == day):
            return record, (f"{code}:{day}" if day else code)
    return None, code


def step_params(ladder, record: dict[str, Any]) -> dict[str, Any]:
    """Template parameters of a step from the configured ladder: ``days`` (its working-day offset from the
    deadline, unsigned) and ``notice_clause`` (set when the step pre-selects the finding for the next notice)."""
    step = ladder.step(record["code"]) if record["code"] in ladder.codes else None
    offset = record.get("offset_working_days")
    if offset is None and step is not None:
        offset = step.offset_working_days
    return {"days": abs(offset) if offset is not None else "",
            "offset_working_days": offset,
            "notice_clause": "已拟列入下期问题通报。" if step is not None and step.preselect_for_notice else ""}


def claim_due_steps(now: datetime, *, cfg: dict[str, Any] | None = None, batch: int = 2000) -> dict[str, int]:
    """Steps 1–2: record every due step once (bulk conditional updates)."""
    cfg = rs.config(cfg)
    ladder = rs.ladder(cfg)
    calendar = current_calendar()
    today = business_date(now)
    coll = Finding._get_collection()
    cursor = coll.find({"next_step_due": {"$lte": _dt(today)}},
                       {"_id": 1, "status": 1, "deadline": 1, "step_codes": 1, "overdue": 1,
                        "risk_overdue_recorded": 1})
    stats = {"selected": 0, "claimed_findings": 0, "steps": 0}
    ops: list[tuple[dict, dict]] = []

    def flush():
        if ops:
            stats["claimed_findings"] += _bulk_update(coll, ops)
            ops.clear()

    for doc in cursor:
        stats["selected"] += 1
        if doc.get("status") not in ESCALATING:
            ops.append(({"_id": doc["_id"], "status": {"$nin": list(ESCALATING)}},
                        {"$set": {"next_step_due": None}}))
            continue
        deadline = _date(doc["deadline"])
        done = list(doc.get("step_codes") or [])
        due = ladder.due_steps(deadline, today, done, calendar)
        nxt = ladder.next_due_date(deadline, done + [s.code for s in due], calendar)
        if not due:
            ops.append(({"_id": doc["_id"], "deadline": doc["deadline"], "step_codes": done},
                        {"$set": {"next_step_due": _dt(nxt) if nxt else None}}))
            continue
        codes = [s.code for s in due]
        due_on = {s.code: d for s, d in ladder.schedule(deadline, calendar)}
        records = [{"code": s.code, "title": s.title, "due": _dt(due_on[s.code]), "at": now,
                    "deadline": _dt(deadline), "offset_working_days": s.offset_working_days,
                    "recipients": list(s.recipients), "notification_ids": []}
                   for s in due]
        sets: dict[str, Any] = {"next_step_due": _dt(nxt) if nxt else None, "level": codes[-1],
                                "notify_pending": True, "updated_at": now}
        overdue_steps = [(s, r) for s, r in zip(due, records) if s.offset_working_days > 0]
        if overdue_steps and not doc.get("overdue"):
            sets["overdue"] = True
            sets["overdue_since"] = _dt(rs._d(calendar.add_working_days(deadline, 1)))
        if overdue_steps and not doc.get("risk_overdue_recorded"):
            sets["risk_pending"] = True
            sets["risk_overdue_recorded"] = True
        if any(s.preselect_for_notice for s in due):
            sets["preselected_for_notice"] = True
            sets["preselected_at"] = now
        ops.append((
            {"_id": doc["_id"], "status": {"$in": list(ESCALATING)}, "deadline": doc["deadline"],
             "step_codes": {"$nin": codes}},
            {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes},
                       "pending_steps": {"$each": [pending_token(c, deadline) for c in codes]}},
             "$set": sets}))
        stats["steps"] += len(codes)
        if len(ops) >= batch:
            flush()
    flush()
    return stats


def write_pending_notifications(now: datetime, *, cfg: dict[str, Any] | None = None,
                                batch: int = 1000) -> dict[str, int]:
    """Step 3: inbox notifications for claimed steps (idempotent), risk feedback, clear the mark.

    Works in batches with a handful of queries each: recipients and
    institution names are prefetched, notifications inserted in bulk, and the
    marks cleared with bulk conditional updates (``pending_steps`` unchanged,
    so a step claimed meanwhile by another sweep is never lost).
    """
    cfg = rs.config(cfg)
    ladder = rs.ladder(cfg)
    stats = {"notifications": 0, "findings": 0}
    coll = Finding._get_collection()
    fields = {"_id": 1, "pending_steps": 1, "steps": 1, "institution_id": 1, "region": 1, "lead_inspector_id": 1,
              "order_id": 1, "order_number": 1, "seq": 1, "item_text": 1, "risk_pending": 1}
    last_id = None
    while True:
        query: dict[str, Any] = {"notify_pending": True}
        if last_id is not None:
            query["_id"] = {"$gt": last_id}
        docs = list(coll.find(query, fields).sort("_id", 1).limit(batch).hint([("notify_pending", 1), ("_id", 1)]))
        if not docs:
            break
        last_id = docs[-1]["_id"]
        resolve = rs.RecipientResolver(docs)
        names = institution_names(d["institution_id"] for d in docs)
        specs, where = [], []
        for doc in docs:
            for token in doc.get("pending_steps") or []:
                record, key = _pending_record(doc.get("steps") or [], token)
                if record is None:
                    continue
                code = record["code"]
                users = [uid for role in record.get("recipients") or [] for uid in resolve(role, doc)]
                kind = f"rectification.{code}" if f"rectification.{code}" in TEMPLATES else "rectification.step"
                specs.append({"user_ids": users, "kind": kind, "region": doc["region"],
                              "dedupe": f"step:{doc['_id']}:{key}",
                              "params": {"order_number": doc["order_number"], "seq": doc["seq"],
                                         "item_text": doc.get("item_text") or "",
                                         "deadline": _date(record["deadline"]).isoformat(),
                                         "step_title": record["title"],
                                         "institution_name": names.get(doc["institution_id"], "被检查机构"),
                                         **step_params(ladder, record)},
                              "data": {"order_id": doc["order_id"], "finding_id": str(doc["_id"]),
                                       "institution_id": doc["institution_id"], "step": code,
                                       "due": _date(record["due"]).isoformat(),
                                       "deadline": _date(record["deadline"]).isoformat()}})
                where.append((doc, record))
        ids = notify.notify_many(specs, now=now, config=cfg)
        for (doc, record), note_ids in zip(where, ids):
            record["notification_ids"] = note_ids
            stats["notifications"] += len(note_ids)
        _record_overdue_risk(coll, [d["_id"] for d in docs if d.get("risk_pending") is True], now)
        # Clear the mark unless another sweep claimed more steps meanwhile (it then finishes the job).
        _bulk_update(coll, [({"_id": d["_id"], "pending_steps": d.get("pending_steps") or []},
                             {"$set": {"steps": d.get("steps") or []},
                              "$unset": {"notify_pending": "", "pending_steps": ""}}) for d in docs])
        stats["findings"] += len(docs)
    return stats


def _record_overdue_risk(coll, ids: list, now: datetime) -> None:
    """Risk feedback once per finding that went overdue, a constant number of commands per batch.

    Only the sweep whose update tags a flag with its own token records it (concurrent sweeps
    never count a finding twice); a crash between tagging and recording loses that increment,
    as an unset-then-record would: the feedback is at most once.
    """
    if not ids:
        return
    token = uuid.uuid4().hex
    by_id = {} if db.is_embedded() else {"hint": ID_INDEX}  # mongomock takes no hint on updates
    coll.update_many({"_id": {"$in": ids}, "risk_pending": True}, {"$set": {"risk_pending": token}}, **by_id)
    mine = list(coll.find({"_id": {"$in": ids}, "risk_pending": token}, {"institution_id": 1}).hint([("_id", 1)]))
    if not mine:
        return
    coll.update_many({"_id": {"$in": [d["_id"] for d in mine]}, "risk_pending": token},
                     {"$unset": {"risk_pending": ""}}, **by_id)
    rs.record_overdue_many(Counter(d["institution_id"] for d in mine), now=now)


def run_sweep(now: datetime, *, config: dict[str, Any] | None = None, deliver: bool = True) -> dict[str, Any]:
    """One sweep as of ``now`` (aware datetime); returns figures. Safe to run repeatedly and concurrently."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cfg = rs.config(config)
    started = time.monotonic()
    claimed = claim_due_steps(now, cfg=cfg)
    t_claim = time.monotonic()
    written = write_pending_notifications(now, cfg=cfg)
    t_inbox = time.monotonic()
    delivered = notify.deliver_pending(now=now, config=cfg) if deliver else {}
    finished = time.monotonic()
    stats = {"as_of": now.isoformat(), "business_date": business_date(now).isoformat(), **claimed,
             "notifications": written["notifications"], "deliveries": delivered,
             "claim_seconds": round(t_claim - started, 3), "inbox_seconds": round(t_inbox - t_claim, 3),
             "delivery_seconds": round(finished - t_inbox, 3), "seconds": round(finished - started, 3)}
    if claimed["steps"]:
        from inspect_api import public_cache
        from inspect_api.audit import service as audit

        public_cache.bump()  # overdue findings show on public pages at once, in every API process

        audit.record("rectification.sweep", target_type="rectification_sweep", target_id=business_date(now).isoformat(),
                     data={"as_of": now, "steps": claimed["steps"], "findings": claimed["claimed_findings"],
                           "notifications": written["notifications"]}, now=now)
    SWEEP_DURATION.observe(finished - started)
    _record_state(now, stats)
    log.log(logging.INFO if stats["steps"] or delivered.get("attempted") else logging.DEBUG,
            "sweep as of %s: %s", now.isoformat(), stats)
    return stats


def _record_state(now: datetime, stats: dict[str, Any]) -> None:
    from inspect_api import db

    db.database()["scheduler_state"].update_one(
        {"_id": STATE_ID}, {"$set": {"last_run_at": datetime.now(timezone.utc), "last_as_of": now,
                                     "last_stats": {k: v for k, v in stats.items() if k != "deliveries"}}},
        upsert=True)


def last_sweep_age_seconds() -> float | None:
    from inspect_api import db
    from inspect_api.clock import as_utc

    doc = db.database()["scheduler_state"].find_one({"_id": STATE_ID})
    if not doc or not doc.get("last_run_at"):
        return None
    return round((datetime.now(timezone.utc) - as_utc(doc["last_run_at"])).total_seconds(), 1)


def readiness() -> dict[str, Any]:
    """Readiness reporter for /readyz."""
    return {"scheduler": {"last_sweep_age_seconds": last_sweep_age_seconds()}}


def daily_digest(now: datetime, *, config: dict[str, Any] | None = None) -> int:
    """One digest per office admin and business day: open, overdue, pre-selected, awaiting review."""
    from inspect_api.auth.models import User
    from inspect_api.scoping import region_range

    day = business_date(now).isoformat()
    sent = 0
    for office in User.objects(role="office_admin", active=True):
        base = Finding.objects(__raw__={"region": region_range(office.region)}).hint([("region", 1), ("overdue", 1)])
        params = {"date": day, "open": base.filter(status__in=list(ESCALATING)).count(),
                  "overdue": base.filter(overdue=True, status__in=list(ESCALATING)).count(),
                  "preselected": base.filter(preselected_for_notice=True, status__nin=list(SETTLED)).count(),
                  "answered": base.filter(status="answered").count()}
        if not any(params[k] for k in ("open", "overdue", "answered")):
            continue
        sent += len(notify.notify([str(office.id)], kind="digest.daily", params=params, data={"date": day},
                                  dedupe=f"digest:{day}", region=office.region, now=now, config=config))
    return sent
