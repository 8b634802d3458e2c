"""The escalation sweep: apply every due ladder step exactly once.

``run_sweep(now)``:

1. **Select** findings whose indexed ``next_step_due`` is on or before
   today's business date (Asia/Shanghai) — the only query over the large
   collection, served by the ``next_step_due`` index.
2. **Claim** each finding's due steps with a conditional update: the filter
   requires the finding to be still escalating, its deadline unchanged and
   *none* of the step codes already in ``step_codes`` (the guard of the
   current deadline); the update pushes the step records, sets
   ``next_step_due``, ``level``, ``overdue``/``preselected_for_notice`` and
   marks the finding ``notify_pending`` with the claimed codes.  Findings
   whose update would be identical (same deadline, steps and flags) are
   claimed together, one statement per chunk of ids, all in one unordered
   bulk command.  Two sweeps racing on the same finding cannot both match,
   so a step is recorded once whatever runs concurrently, repeatedly or
   after a restart; a sweep after downtime sees every missed step as due and
   claims them all in that update.
3. **Inbox**: for every finding marked ``notify_pending`` (claimed now, or left
   so by a sweep that crashed after claiming), write the inbox notifications
   of its pending steps — idempotent by ``step:<finding>:<code>:<deadline>:<user>``,
   so a step is notified once per deadline (a new deadline re-arms the ladder:
   :func:`inspect_api.rectification.service.move_deadline`) —
   then clear the mark, and record the overdue risk event once (the clearing
   update takes the finding's ``risk_pending`` flag for its batch).  A batch's
   clearing updates are one transaction where the server supports them.
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


def claim_due_steps(now: datetime, *, cfg: dict[str, Any] | None = None, batch: int = 10000) -> dict[str, int]:
    """Steps 1–2: record every due step once (conditional updates, grouped).

    Findings that share a deadline, the steps already recorded and the flags
    the update depends on get the very same conditional update, so each such
    group is claimed with one statement per chunk of ids instead of one per
    finding (a statement costs the same on a server whatever its id list).
    """
    cfg = rs.config(cfg)
    ladder = rs.ladder(cfg)
    calendar = current_calendar()
    today = business_date(now)
    coll = Finding._get_collection()
    cursor = coll.find({"next_step_due": {"$lte": _dt(today)}},
                       {"_id": 1, "status": 1, "deadline": 1, "step_codes": 1, "overdue": 1,
                        "risk_overdue_recorded": 1})
    stats = {"selected": 0, "claimed_findings": 0, "steps": 0}
    groups: dict[tuple, list] = {}
    pending = 0

    def flush():
        ops = []
        for key, ids in groups.items():
            where, update, steps = _claim(key, ladder=ladder, calendar=calendar, now=now)
            stats["steps"] += steps * len(ids)
            ops += [({"_id": {"$in": ids[i:i + db.ID_CHUNK]}, **where}, update) for i in range(0, len(ids), db.ID_CHUNK)]
        stats["claimed_findings"] += db.update_many_each(coll, ops, many=True)
        groups.clear()

    for doc in cursor:
        stats["selected"] += 1
        key = _claim_key(doc)
        groups.setdefault(key, []).append(doc["_id"])
        pending += 1
        if pending >= batch:
            flush()
            pending = 0
    flush()
    return stats


def _claim_key(doc: dict[str, Any]) -> tuple:
    """What a finding's claim depends on: escalating?, deadline, steps recorded, the two flags."""
    if doc.get("status") not in ESCALATING:
        return (False,)
    return (True, doc["deadline"], tuple(doc.get("step_codes") or ()), bool(doc.get("overdue")),
            bool(doc.get("risk_overdue_recorded")))


def _claim(key: tuple, *, ladder, calendar, now: datetime) -> tuple[dict, dict, int]:
    """The guard and the update of one claim group (see :func:`_claim_key`), and how many steps it records."""
    if not key[0]:  # settled meanwhile: it leaves the sweep
        return {"status": {"$nin": list(ESCALATING)}}, {"$set": {"next_step_due": None}}, 0
    _, stored_deadline, done, overdue, risk_recorded = key
    deadline, done = _date(stored_deadline), list(done)
    today = business_date(now)
    due = ladder.due_steps(deadline, today, done, calendar)
    nxt = ladder.next_due_date(deadline, done + [s.code for s in due], calendar)
    if not due:
        return ({"deadline": stored_deadline, "step_codes": done}, {"$set": {"next_step_due": _dt(nxt) if nxt else None}},
                0)
    codes = [s.code for s in due]
    due_on = {s.code: d for s, d in ladder.schedule(deadline, calendar)}
    records = [{"code": s.code, "title": s.title, "due": _dt(due_on[s.code]), "at": now,
                "deadline": _dt(deadline), "offset_working_days": s.offset_working_days,
                "recipients": list(s.recipients), "notification_ids": []}
               for s in due]
    sets: dict[str, Any] = {"next_step_due": _dt(nxt) if nxt else None, "level": codes[-1],
                            "notify_pending": True, "updated_at": now}
    if any(s.offset_working_days > 0 for s in due):
        if not overdue:
            sets["overdue"] = True
            sets["overdue_since"] = _dt(rs._d(calendar.add_working_days(deadline, 1)))
        if not risk_recorded:
            sets["risk_pending"] = True
            sets["risk_overdue_recorded"] = True
    if any(s.preselect_for_notice for s in due):
        sets["preselected_for_notice"] = True
        sets["preselected_at"] = now
    return ({"status": {"$in": list(ESCALATING)}, "deadline": stored_deadline, "step_codes": {"$nin": codes}},
            {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes},
                       "pending_steps": {"$each": [pending_token(c, deadline) for c in codes]}},
             "$set": sets}, len(codes))


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
        docs = list(coll.find(query, fields).sort("_id", 1).limit(batch))
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
        # Clear the mark unless another sweep claimed more steps meanwhile (it then finishes the job); the
        # same update tags a finding's pending overdue risk with this batch's token.
        token = uuid.uuid4().hex
        ops = []
        for d in docs:
            where = {"_id": d["_id"], "pending_steps": d.get("pending_steps") or []}
            update: dict[str, Any] = {"$set": {"steps": d.get("steps") or []},
                                      "$unset": {"notify_pending": "", "pending_steps": ""}}
            if d.get("risk_pending") is True:
                where["risk_pending"] = True
                update["$unset"]["risk_pending"] = ""
                update["$set"]["risk_token"] = token
            ops.append((where, update))
        # One transaction for the batch where the server has them: its statements commit (and reach the
        # journal) once, not once each; a transient error runs the (conditional, so idempotent) batch again.
        db.transaction(lambda session: db.update_many_each(coll, ops, session=session))
        _record_overdue_risk(coll, [d["_id"] for d in docs if d.get("risk_pending") is True], token, now)
        stats["findings"] += len(docs)
    return stats


def _record_overdue_risk(coll, ids: list, token: str, now: datetime) -> None:
    """Risk feedback once per finding that went overdue, a constant number of commands per batch.

    Only the sweep whose clearing update took the flag and left its own token records it
    (concurrent sweeps never count a finding twice). A crash between that update and recording
    loses the increment: the feedback is at most once.
    """
    if not ids:
        return
    mine = [d for d in db.find_by_ids(coll, ids, {"institution_id": 1, "risk_token": 1}) if d.get("risk_token") == token]
    if mine:
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
