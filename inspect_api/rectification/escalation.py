"""The escalation sweep: apply every due ladder step exactly once.

``run_sweep(now)`` works through the findings whose indexed ``next_step_due``
is on or before today's business date (Asia/Shanghai), in batches:

1. **Plan** (:func:`plan_claims`): findings whose claim would be identical
   (escalating, same deadline, same steps already recorded, same flags) form
   a group with one conditional update: the guard requires the finding to be
   still escalating, its deadline unchanged and *none* of the due step codes
   already in ``step_codes``; the update pushes the step records, sets
   ``next_step_due``, ``level``, ``overdue``/``preselected_for_notice``.
2. **Notify** (:func:`notify_planned`): the inbox notifications of every
   planned step, written *before* the claim and idempotent by
   ``step:<finding>:<code>:<deadline>:<user>`` (a step is notified once per
   deadline; a new deadline re-arms the ladder:
   :func:`inspect_api.rectification.service.move_deadline`).
3. **Claim** (:func:`apply_claims`): the groups' updates, one statement per
   chunk of ids, one unordered bulk command in one transaction where the
   server has them.  Two sweeps racing on a finding cannot both match, so a
   step is recorded once whatever runs concurrently, repeatedly or after a
   restart; a sweep after downtime sees every missed step as due and claims
   them all at once.  A finding that changed between plan and claim
   (answered, extended) is not claimed: the notifications of its unrecorded
   steps are withdrawn before any channel delivers them.
4. **Risk**: the first overdue step of a finding counts once in its
   institution's risk profile, by the batch whose claim set
   ``risk_overdue_recorded`` (a claim tags its findings with its batch's
   ``claim_token``, so a batch knows which findings it took).
5. **Channels**: attempt due webhook / e-mail deliveries with a short timeout
   and a time budget; failures are retried by later sweeps with backoff.

Each finding is written once per sweep (the claim): on a server every write
of a document rewrites all its index entries, so the claim carries everything
and nothing is marked and cleared afterwards.  A crash after step 2 leaves
notifications whose step is not yet recorded; the next sweep plans the same
steps, finds their notifications already written and claims them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
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
BATCH = 2000  # findings planned, notified and claimed together

# What the sweep reads of a due finding: the claim key and the notifications' content.
_DUE_FIELDS = {"_id": 1, "status": 1, "deadline": 1, "step_codes": 1, "overdue": 1, "risk_overdue_recorded": 1,
               "institution_id": 1, "region": 1, "lead_inspector_id": 1, "order_id": 1, "order_number": 1, "seq": 1,
               "item_text": 1}


def _dt(d: date) -> datetime:
    """A business date as MongoDB stores DateField values (midnight UTC)."""
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def _date(v) -> date:
    return v.date() if isinstance(v, datetime) else v


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


def step_dedupe(finding_id: Any, code: str, deadline: date) -> str:
    """The dedupe key prefix of a step's notifications: once per finding, step and deadline (the user follows)."""
    return f"step:{finding_id}:{code}:{deadline.isoformat()}"


@dataclass
class Claim:
    """One group's conditional update and the findings it is for (see :func:`plan_claims`)."""

    where: dict[str, Any]
    update: dict[str, Any]
    records: list[dict[str, Any]]  # the step records it pushes (none: it only reschedules or retires)
    risk: bool = False  # the claim records the findings' first overdue step
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.records]


def plan_claims(docs: list[dict[str, Any]], *, now: datetime, token: str, ladder=None, calendar=None) -> list[Claim]:
    """Step 1: the claims of these due findings, one per group of findings whose update is identical."""
    ladder = ladder or rs.ladder()
    calendar = calendar or current_calendar()
    claims: dict[tuple, Claim] = {}
    for doc in docs:
        key = _claim_key(doc)
        if key not in claims:
            claims[key] = _claim(key, ladder=ladder, calendar=calendar, now=now, token=token)
        claims[key].findings.append(doc)
    return list(claims.values())


def _claim_key(doc: dict[str, Any]) -> tuple:
    """What a finding's claim depends on: escalating?, deadline, steps recorded, the two flags."""
    if doc.get("status") not in ESCALATING:
        return (False,)
    return (True, doc["deadline"], tuple(doc.get("step_codes") or ()), bool(doc.get("overdue")),
            bool(doc.get("risk_overdue_recorded")))


def _claim(key: tuple, *, ladder, calendar, now: datetime, token: str) -> Claim:
    """The guard and the update of one claim group (see :func:`_claim_key`)."""
    if not key[0]:  # settled meanwhile: it leaves the sweep
        return Claim({"status": {"$nin": list(ESCALATING)}}, {"$set": {"next_step_due": None}}, [])
    _, stored_deadline, done, overdue, risk_recorded = key
    deadline, done = _date(stored_deadline), list(done)
    today = business_date(now)
    due = ladder.due_steps(deadline, today, done, calendar)
    nxt = ladder.next_due_date(deadline, done + [s.code for s in due], calendar)
    if not due:
        return Claim({"deadline": stored_deadline, "step_codes": done},
                     {"$set": {"next_step_due": _dt(nxt) if nxt else None}}, [])
    codes = [s.code for s in due]
    due_on = {s.code: d for s, d in ladder.schedule(deadline, calendar)}
    records = [{"code": s.code, "title": s.title, "due": _dt(due_on[s.code]), "at": now,
                "deadline": _dt(deadline), "offset_working_days": s.offset_working_days,
                "recipients": list(s.recipients)}
               for s in due]
    sets: dict[str, Any] = {"next_step_due": _dt(nxt) if nxt else None, "level": codes[-1], "updated_at": now,
                            "claim_token": token}
    risk = False
    if any(s.offset_working_days > 0 for s in due):
        if not overdue:
            sets["overdue"] = True
            sets["overdue_since"] = _dt(rs._d(calendar.add_working_days(deadline, 1)))
        if not risk_recorded:
            risk = True
            sets["risk_overdue_recorded"] = True
    if any(s.preselect_for_notice for s in due):
        sets["preselected_for_notice"] = True
        sets["preselected_at"] = now
    return Claim({"status": {"$in": list(ESCALATING)}, "deadline": stored_deadline, "step_codes": {"$nin": codes}},
                 {"$push": {"steps": {"$each": records}, "step_codes": {"$each": codes}}, "$set": sets},
                 records, risk)


def notify_planned(claims: list[Claim], *, now: datetime, cfg: dict[str, Any] | None = None,
                   ladder=None) -> dict[tuple, list[str]]:
    """Step 2: the inbox notifications of every planned step (idempotent by key); returns their ids by
    ``(finding id, code)``.  Recipients and institution names are read once for the batch."""
    ladder = ladder or rs.ladder(cfg)
    docs = [doc for claim in claims if claim.records for doc in claim.findings]
    if not docs:
        return {}
    resolve = rs.RecipientResolver(docs)
    names = institution_names(d["institution_id"] for d in docs)
    specs, keys = [], []
    for claim in claims:
        for record in claim.records:
            code, deadline = record["code"], _date(record["deadline"])
            kind = f"rectification.{code}" if f"rectification.{code}" in TEMPLATES else "rectification.step"
            params = {"deadline": deadline.isoformat(), "step_title": record["title"], **step_params(ladder, record)}
            data = {"step": code, "due": _date(record["due"]).isoformat(), "deadline": deadline.isoformat()}
            for doc in claim.findings:
                users = [uid for role in record["recipients"] for uid in resolve(role, doc)]
                specs.append({"user_ids": users, "kind": kind, "region": doc["region"],
                              "dedupe": step_dedupe(doc["_id"], code, deadline),
                              "params": {"order_number": doc["order_number"], "seq": doc["seq"],
                                         "item_text": doc.get("item_text") or "",
                                         "institution_name": names.get(doc["institution_id"], "被检查机构"), **params},
                              "data": {"order_id": doc["order_id"], "finding_id": str(doc["_id"]),
                                       "institution_id": doc["institution_id"], **data}})
                keys.append((doc["_id"], code))
    ids = notify.notify_many(specs, now=now, config=cfg)
    return dict(zip(keys, ids))


def apply_claims(claims: list[Claim]) -> int:
    """Step 3: every claim's update, one bulk command in one transaction where the server has them;
    returns how many findings were claimed."""
    ops = []
    for claim in claims:
        ids = [d["_id"] for d in claim.findings]
        ops += [({"_id": {"$in": ids[i:i + db.ID_CHUNK]}, **claim.where}, claim.update)
                for i in range(0, len(ids), db.ID_CHUNK)]
    coll = Finding._get_collection()
    return db.transaction(lambda session: db.update_many_each(coll, ops, many=True, session=session))


def _settle_unclaimed(claims: list[Claim], notes: dict[tuple, list[str]], token: str) -> list[dict[str, Any]]:
    """After a claim that did not take every finding: withdraw the notifications of steps that no claim
    recorded (the finding changed meanwhile); returns the findings this batch claimed (its token)."""
    ids = [d["_id"] for claim in claims if claim.records for d in claim.findings]
    stored = {d["_id"]: d for d in db.find_by_ids(Finding._get_collection(), ids,
                                                   {"steps.code": 1, "steps.deadline": 1, "claim_token": 1})}
    withdraw: list[str] = []
    for claim in claims:
        for doc in claim.findings:
            now_doc = stored.get(doc["_id"]) or {}
            recorded = {(s.get("code"), _date(s.get("deadline"))) for s in now_doc.get("steps") or []}
            withdraw += [note for record in claim.records
                         if (record["code"], _date(record["deadline"])) not in recorded
                         for note in notes.get((doc["_id"], record["code"]), [])]
    if withdraw:
        notify.withdraw(withdraw)
    return [d for d in stored.values() if d.get("claim_token") == token]


def escalate(docs: list[dict[str, Any]], *, now: datetime, cfg: dict[str, Any] | None = None, ladder=None,
             calendar=None) -> dict[str, Any]:
    """Steps 1–4 for one batch of due findings as read by :func:`due_findings` (see the module docstring);
    returns the batch's figures."""
    cfg = rs.config(cfg)
    ladder = ladder or rs.ladder(cfg)
    token = uuid.uuid4().hex
    claims = plan_claims(docs, now=now, token=token, ladder=ladder, calendar=calendar)
    started = time.monotonic()
    notes = notify_planned(claims, now=now, cfg=cfg, ladder=ladder)
    notified = time.monotonic()
    claimed = apply_claims(claims)
    claimed_at = time.monotonic()
    if claimed == len(docs):  # every finding claimed: every planned step is this batch's
        mine = {d["_id"] for claim in claims for d in claim.findings}
    else:
        mine = {d["_id"] for d in _settle_unclaimed(claims, notes, token)}
    risky = Counter(d["institution_id"] for claim in claims if claim.risk for d in claim.findings if d["_id"] in mine)
    if risky:
        rs.record_overdue_many(risky, now=now)
    return {"claimed_findings": claimed,
            "steps": sum(len(claim.records) for claim in claims for d in claim.findings if d["_id"] in mine),
            "notifications": sum(len(v) for v in notes.values()),
            "notify_seconds": notified - started, "claim_seconds": claimed_at - notified}


def due_findings(now: datetime) -> list[dict[str, Any]]:
    """The findings with a step due by ``now``'s business date (the ``next_step_due`` index), as the sweep
    reads them.  Read whole before any claim: the claims move them out of the index a cursor would walk."""
    return list(Finding._get_collection().find({"next_step_due": {"$lte": _dt(business_date(now))}}, _DUE_FIELDS))


def escalate_due(now: datetime, *, cfg: dict[str, Any] | None = None, batch: int = BATCH) -> dict[str, Any]:
    """Steps 1–4 for every due finding, ``batch`` findings at a time; returns figures."""
    cfg = rs.config(cfg)
    ladder = rs.ladder(cfg)
    calendar = current_calendar()
    due = due_findings(now)
    stats: dict[str, Any] = {"selected": len(due), "claimed_findings": 0, "steps": 0, "notifications": 0,
                             "notify_seconds": 0.0, "claim_seconds": 0.0}
    for i in range(0, len(due), batch):
        for key, value in escalate(due[i:i + batch], now=now, cfg=cfg, ladder=ladder, calendar=calendar).items():
            stats[key] += value
    return stats


def run_sweep(now: datetime, *, config: dict[str, Any] | None = None, deliver: bool = True) -> dict[str, Any]:
    """One sweep as of ``now`` (aware datetime); returns figures. Safe to run repeatedly and concurrently."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cfg = rs.config(config)
    started = time.monotonic()
    escalated = escalate_due(now, cfg=cfg)
    t_escalated = time.monotonic()
    delivered = notify.deliver_pending(now=now, config=cfg) if deliver else {}
    finished = time.monotonic()
    stats = {"as_of": now.isoformat(), "business_date": business_date(now).isoformat(),
             **{k: v for k, v in escalated.items() if not k.endswith("_seconds")},
             "deliveries": delivered, "select_seconds": round(t_escalated - started - escalated["notify_seconds"]
                                                              - escalated["claim_seconds"], 3),
             "notify_seconds": round(escalated["notify_seconds"], 3),
             "claim_seconds": round(escalated["claim_seconds"], 3),
             "delivery_seconds": round(finished - t_escalated, 3), "seconds": round(finished - started, 3)}
    if stats["steps"]:
        from inspect_api import public_cache
        from inspect_api.audit import service as audit

        public_cache.bump()  # overdue findings show on public pages at once, in every API process

        audit.record("rectification.sweep", target_type="rectification_sweep", target_id=business_date(now).isoformat(),
                     data={"as_of": now, "steps": stats["steps"], "findings": stats["claimed_findings"],
                           "notifications": stats["notifications"]}, now=now)
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
