"""Rectification orders: configuration, recipients, issuing, reading and scoping.

The institution's side (acknowledge, answer, extensions asked) is in
:mod:`.responses`, the reviewers' side (review, extensions decided,
re-inspection) in :mod:`.reviews`, the escalation sweep in :mod:`.escalation`.
Plain functions with explicit ``now`` and acting user.  Deadlines are
business dates (Asia/Shanghai) counted in working days on the calendar in
force (:func:`inspect_api.calendar.service.current_calendar`).  Scoping:

* institution users see their own institution's orders only;
* office admins see orders of their region subtree and review them;
* inspectors see orders of inspections they were on; only the lead reviews.

Out-of-scope ids answer 404.  Every state change appends an audit event.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime
from typing import Any, Iterable

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth.models import User
from inspect_api.batched import Query, Read
from inspect_api.calendar.service import current_calendar
from inspect_api import config as inspect_config
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.notify import service as notify
from inspect_api.rectification.ladder import DEFAULT_LADDER, Ladder
from inspect_api.rectification.models import (SETTLED, SEVERITIES, Deduction, Finding,
                                              Order, OrderCounter)
from inspect_api.scoping import in_scope, parent_region, region_range
from inspect_api.workdays import WorkingCalendar, business_date

log = logging.getLogger(__name__)

PHOTO_OWNER = "rectification_finding"
MAX_DEADLINE_SHIFT_DAYS = 366  # a new or extended deadline lies at most a year ahead
MAX_PHOTOS_PER_ANSWER = 20


# --- configuration ------------------------------------------------------------------


def config(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app configuration (the current app's, or freshly loaded outside a request)."""
    return inspect_config.current(cfg)


_ladders: dict[int, tuple[Any, Ladder]] = {}


def ladder(cfg: dict[str, Any] | None = None) -> Ladder:
    """The escalation ladder from ``[[ladder]]`` in the configuration (DEFAULT_LADDER when absent)."""
    raw = config(cfg).get("ladder")
    if not raw:
        return DEFAULT_LADDER
    key = id(raw)
    cached = _ladders.get(key)
    if cached is None or cached[0] is not raw:
        cached = (raw, Ladder.from_config(raw))
        _ladders[key] = cached
    return cached[1]


# --- directory adapters --------------------------------------------------------------


def institution_name(institution_id: str) -> str:
    from inspect_api.directory.models import Institution

    oid = db.parse_oid(institution_id)
    inst = Institution.objects(id=oid).only("name").first() if oid else None
    return inst.name if inst is not None else "被检查机构"


def record_risk(institution_id: str, *, now: datetime, overdue: int = 0, rejected: int = 0,
                past_findings: int = 0) -> None:
    """Feed the draw's risk weighting (an atomic $inc on the institution's risk profile)."""
    from inspect_api.directory.institutions import record_risk_event

    record_risk_event(institution_id, past_findings=past_findings, overdue_rectifications=overdue,
                      rejected_answers=rejected, now=now)


def record_overdue_many(counts: dict[str, int], *, now: datetime) -> None:
    """Add overdue rectifications to several institutions' risk profiles in one bulk write."""
    from inspect_api.directory.institutions import record_risk_events

    record_risk_events({iid: {"overdue_rectifications": n} for iid, n in counts.items()}, now=now)


def _accounts(role: str, **where) -> list[User]:
    """Active accounts of ``role`` found through one indexed field (``where``: institution_id,
    inspector_id or region, a value or ``__in``): role and active are checked here, so the query is a
    single index-served clause on any server (the local SecantusDB plans only whole filters)."""
    return [u for u in User.objects(**where).only("id", "role", "active", "region", "institution_id", "inspector_id")
            if u.role == role and u.active]


def _ids(users: list[User]) -> list[str]:
    return [str(u.id) for u in users]


def recipients(role: str, finding: Finding) -> list[str]:
    """User ids behind a ladder recipient role for ``finding``.

    institution → the institution's accounts; lead_inspector → the lead's
    account; county_office → office admins of the institution's own region;
    department → office admins of the enclosing region (the supervising
    department above the county); leadership_office → office admins of every
    enclosing region (city and province leadership-group offices).
    """
    if role == "institution":
        return _ids(_accounts("institution", institution_id=finding.institution_id))
    if role == "lead_inspector":
        return _ids(_accounts("inspector", inspector_id=finding.lead_inspector_id))
    if role == "county_office":
        return _ids(_accounts("office_admin", region=finding.region))
    parents = []
    code = finding.region
    while (code := parent_region(code)) is not None:
        parents.append(code)
    if role == "department":
        return _ids(_accounts("office_admin", region__in=parents[:1])) if parents else []
    if role == "leadership_office":
        return _ids(_accounts("office_admin", region__in=parents)) if parents else []
    return []


class RecipientResolver:
    """:func:`recipients` for many findings with a few prefetch queries (the sweep's bulk path)."""

    def __init__(self, findings: list[dict[str, Any]]):
        inst_ids = list({f["institution_id"] for f in findings})
        lead_ids = list({f["lead_inspector_id"] for f in findings})
        self.institution: dict[str, list[str]] = {}
        for u in _accounts("institution", institution_id__in=inst_ids):
            self.institution.setdefault(u.institution_id, []).append(str(u.id))
        self.lead: dict[str, list[str]] = {}
        for u in _accounts("inspector", inspector_id__in=lead_ids):
            self.lead.setdefault(u.inspector_id, []).append(str(u.id))
        regions: set[str] = set()
        for f in findings:
            code = f["region"]
            regions.add(code)
            while (code := parent_region(code)) is not None:
                regions.add(code)
        self.office: dict[str, list[str]] = {}
        for u in _accounts("office_admin", region__in=sorted(regions)):
            self.office.setdefault(u.region, []).append(str(u.id))

    def __call__(self, role: str, finding: dict[str, Any]) -> list[str]:
        if role == "institution":
            return self.institution.get(finding["institution_id"], [])
        if role == "lead_inspector":
            return self.lead.get(finding["lead_inspector_id"], [])
        if role == "county_office":
            return self.office.get(finding["region"], [])
        parents = []
        code = finding["region"]
        while (code := parent_region(code)) is not None:
            parents.append(code)
        if role == "department":
            return self.office.get(parents[0], []) if parents else []
        if role == "leadership_office":
            return [uid for p in parents for uid in self.office.get(p, [])]
        return []


def reviewers_of(finding: Finding) -> list[str]:
    return recipients("lead_inspector", finding) + recipients("county_office", finding)


def template_params(finding: Finding, **extra: Any) -> dict[str, Any]:
    params = {"order_number": finding.order_number, "seq": finding.seq, "item_text": finding.item_text or "",
              "deadline": _d(finding.deadline).isoformat(), "institution_name": institution_name(finding.institution_id)}
    params.update(extra)
    return params


def _data(finding: Finding, **extra: Any) -> dict[str, Any]:
    return {"order_id": finding.order_id, "finding_id": str(finding.id), "institution_id": finding.institution_id,
            **extra}


# --- helpers -----------------------------------------------------------------------------


def _d(value: date | datetime | None) -> date | None:
    """DateField values come back as datetimes from some stores: normalise to date."""
    if isinstance(value, datetime):
        return value.date()
    return value


def _format_number(region: str, year: int, seq: int) -> str:
    return f"ZG-{region}-{year}-{seq:04d}"


def _next_number(region: str, year: int) -> str:
    """The next order number of a region and year; numbers already used (restored data) are skipped."""
    seq = db.next_in_sequence(
        OrderCounter._meta["collection"], f"{region}-{year}",
        taken=lambda n: Order.objects(number=_format_number(region, year, n)).limit(1).count(True) > 0)
    return _format_number(region, year, seq)


def schedule_next(finding: Finding, deadline: date, calendar: WorkingCalendar | None = None,
                  cfg: dict[str, Any] | None = None) -> date | None:
    return ladder(cfg).next_due_date(deadline, finding.step_codes or [], calendar or current_calendar())


def move_deadline(finding: Finding, new_deadline: date, *, today: date, escalating: bool,
                  calendar: WorkingCalendar | None = None, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The updates that give ``finding`` a new deadline and re-arm its ladder for it.

    The step guard (``step_codes``) is per deadline: it is cleared in the same
    atomic update that moves the deadline (the step history in ``steps`` stays),
    so every step falls due once more for the new deadline.  The sweep's claim
    requires the deadline it computed from, so a sweep racing with this update
    either claims for the old deadline first or not at all; notifications are
    deduplicated per (step, deadline).  A deadline still ahead (or today) ends
    the overdue state; the overdue risk event stays counted once per finding.
    An unchanged deadline keeps the guard (no step is sent twice for it).
    """
    calendar = calendar or current_calendar()
    updates: dict[str, Any] = {"set__deadline": new_deadline}
    done = list(finding.step_codes or [])
    if new_deadline != _d(finding.deadline):
        done = []
        updates.update(set__step_codes=[], set__level=None)
    if escalating:
        updates["set__next_step_due"] = ladder(cfg).next_due_date(new_deadline, done, calendar)
    if new_deadline >= today:
        updates.update(set__overdue=False, unset__overdue_since=True)
    return updates


# --- issuing ----------------------------------------------------------------------------


def _new_finding(order: Order, seq: int, raw: dict, start: date, calendar: WorkingCalendar,
                 now: datetime) -> Finding:
    """A finding of ``order`` from the inspection's finding ``raw``; its deadline counts from ``start``."""
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise Unprocessable("问题严重程度无效", code="SEVERITY_INVALID", details={"severity": severity})
    days = int(raw["deadline_working_days"])
    if days < 1:
        raise Unprocessable("整改期限至少 1 个工作日", code="DEADLINE_INVALID")
    deadline = calendar.add_working_days(start, days)
    finding = Finding(
        order_id=str(order.id), seq=seq, order_number=order.number, institution_id=order.institution_id,
        region=order.region, lead_inspector_id=order.lead_inspector_id, team=list(order.team),
        deadline_working_days=days, status="open", deadline=deadline, original_deadline=deadline,
        created_at=now, updated_at=now, **_finding_content(raw))
    finding.next_step_due = ladder().next_due_date(deadline, [], calendar)
    return finding


def _finding_content(raw: dict) -> dict[str, Any]:
    """What the inspection says about a finding (a correction may change it; the deadline stays)."""
    return {"item_id": str(raw["item_id"]), "item_text": raw.get("item_text"), "clause": raw.get("clause"),
            "severity": raw["severity"],
            "deductions": [Deduction(code=d.get("code"), text=d.get("text"), points=d.get("points"))
                           for d in raw.get("deductions") or []],
            "points_lost": float(raw.get("points_lost") or 0),
            "reinspection_required": bool(raw.get("reinspection_required")), "note": raw.get("note"),
            "photo_ids": [str(p) for p in raw.get("photo_ids") or []]}


def open_order(*, inspection_id: str, institution_id: str, region: str, lead_inspector_id: str, team: list[str],
               checklist_code: str, findings: list[dict], concluded_at: datetime, now: datetime,
               deadlines_from: datetime | None = None, source: str = "inspection") -> Order | None:
    """Issue the rectification order of a submitted inspection (idempotent by ``inspection_id``).

    Returns None when there are no findings.  A replay returns the first order
    and completes any step a crashed first call left undone (findings are
    keyed by (order, seq), the notification by a dedupe key).  Deadlines count
    from the conclusion, or from ``deadlines_from`` (a correction that brings
    the first findings).  ``source`` says what found them: ``inspection`` or
    ``ledger_check`` (a ledger spot check, keyed ``ledger:<check id>``).
    """
    if not findings:
        return None
    calendar = current_calendar()
    start = business_date(deadlines_from or concluded_at)
    order = Order.objects(inspection_id=str(inspection_id)).first()
    if order is None:
        order = Order(id=ObjectId(), number=_next_number(region, start.year), inspection_id=str(inspection_id),
                      institution_id=str(institution_id), region=region, lead_inspector_id=str(lead_inspector_id),
                      team=[str(t) for t in team], checklist_code=checklist_code, source=source, status="open",
                      finding_count=len(findings), concluded_at=concluded_at, issued_at=now, updated_at=now)
        try:
            _insert_order_with_findings(order, findings, start, calendar, now)
        except (NotUniqueError, DuplicateKeyError):  # a concurrent or earlier call issued it: complete that one
            order = Order.objects.get(inspection_id=str(inspection_id))
        else:
            audit.record("rectification.order_issued", target_type="rectification_order", target_id=str(order.id),
                         region=region, data={"number": order.number, "inspection_id": str(inspection_id),
                                              "findings": len(findings)}, now=now)
    existing = {f.seq for f in Finding.objects(order_id=str(order.id)).only("seq")}
    for seq, raw in enumerate(findings, start=1):
        if seq in existing:
            continue
        # NotUniqueError: a retry of a half-finished open_order, and this finding is already stored.
        with contextlib.suppress(NotUniqueError):
            _new_finding(order, seq, raw, start, calendar, now).save(force_insert=True)
    first = Finding.objects(order_id=str(order.id)).order_by("deadline").first()
    notify.notify(recipients("institution", first), kind="rectification.issued",
                  params=template_params(first, finding_count=order.finding_count),
                  data={"order_id": str(order.id), "institution_id": order.institution_id},
                  dedupe=f"order-issued:{order.id}", region=order.region, now=now)
    return order


def _insert_order_with_findings(order: Order, findings: list[dict], start: date, calendar: WorkingCalendar,
                                now: datetime) -> None:
    """The order and all its findings in one transaction where the server has them.

    Without one (the in-process store) they are written in order; a crash in between leaves an
    order whose missing findings the next call of :func:`open_order` adds (keyed by order and seq).
    """
    order.validate()
    order_doc = order.to_mongo().to_dict()

    def write(session):
        db.collection(Order).insert_one(order_doc, session=session)
        docs = []
        for seq, raw in enumerate(findings, start=1):
            finding = _new_finding(order, seq, raw, start, calendar, now)
            finding.validate()
            docs.append(finding.to_mongo().to_dict())
        db.collection(Finding).insert_many(docs, ordered=True, session=session)

    db.transaction(write)


def reconcile_order(order_id: str, findings: list[dict], *, reason: str, corrected_at: datetime,
                    correction_id: str, now: datetime) -> Order:
    """Make an order match the findings of a corrected inspection record (更正).

    A finding whose item no longer fails is withdrawn (已撤销, nothing more is
    owed, its ladder stops); a newly failing item becomes a new finding whose
    deadline counts from the correction; a changed one keeps its deadline and
    takes the new content.  The order reopens for a new finding and closes
    when nothing is owed.  Idempotent: every change is a conditional update,
    and a replay finds nothing left to change.
    """
    order = Order.objects.get(id=db.parse_oid(order_id))
    calendar = current_calendar()
    wanted = {str(raw["item_id"]): raw for raw in findings}
    active = {f.item_id: f for f in Finding.objects(order_id=str(order.id), status__ne="withdrawn")}
    withdrawn, added, changed = [], [], []
    for item_id, finding in active.items():
        if item_id in wanted:
            content = _finding_content(wanted[item_id])
            if any(getattr(finding, k) != v for k, v in content.items() if k != "deductions") or \
                    [d.to_mongo().to_dict() for d in finding.deductions] != \
                    [d.to_mongo().to_dict() for d in content["deductions"]]:
                Finding.objects(id=finding.id).update_one(**{f"set__{k}": v for k, v in content.items()},
                                                          set__updated_at=now)
                changed.append(finding)
            continue
        if Finding.objects(id=finding.id, status__ne="withdrawn").update_one(
                set__status="withdrawn", set__withdrawn_at=corrected_at, set__withdrawn_reason=reason,
                set__next_step_due=None, set__overdue=False, set__preselected_for_notice=False,
                set__updated_at=now):
            withdrawn.append(finding)
    for item_id, raw in wanted.items():
        if item_id in active:
            continue
        for _attempt in range(3):  # a concurrent reconcile may take the seq: take the next one
            last = Finding.objects(order_id=str(order.id)).order_by("-seq").only("seq").first()
            finding = _new_finding(order, (last.seq if last else 0) + 1, raw, business_date(corrected_at),
                                   calendar, now)
            try:
                finding.save(force_insert=True)
            except NotUniqueError:
                if Finding.objects(order_id=str(order.id), item_id=item_id, status__ne="withdrawn").first():
                    break
                continue
            added.append(finding)
            break
    if not (withdrawn or added or changed):
        return order
    live = Finding.objects(order_id=str(order.id), status__ne="withdrawn")
    owed = live.filter(status__ne="accepted").count()
    updates: dict[str, Any] = {"set__finding_count": live.count(), "set__updated_at": now}
    if owed and order.status == "closed":
        updates.update(set__status="open", unset__closed_at=True)
    elif not owed and order.status == "open":
        updates.update(set__status="closed", set__closed_at=now)
    Order.objects(id=order.id).update_one(**updates)
    order.reload()
    audit.record("rectification.order_reconciled", target_type="rectification_order", target_id=str(order.id),
                 region=order.region,
                 data={"correction_id": correction_id, "reason": reason, "status": order.status,
                       "withdrawn": [f.seq for f in withdrawn], "added": [f.seq for f in added],
                       "changed": [f.seq for f in changed]}, now=now)
    record_risk(order.institution_id, past_findings=len(added) - len(withdrawn), now=now)
    for finding in withdrawn:
        notify.notify(recipients("institution", finding), kind="rectification.withdrawn",
                      params=template_params(finding, reason=reason), data=_data(finding),
                      dedupe=f"withdrawn:{finding.id}", region=finding.region, now=now)
    for finding in added:
        notify.notify(recipients("institution", finding), kind="rectification.added",
                      params=template_params(finding, reason=reason), data=_data(finding),
                      dedupe=f"added:{finding.id}", region=finding.region, now=now)
    return order


# --- reading and scoping -------------------------------------------------------------------


def _visible(user, order: Order) -> bool:
    if user.role == "office_admin":
        return in_scope(user.region, order.region)
    if user.role == "institution":
        return bool(user.institution_id) and user.institution_id == order.institution_id
    if user.role == "inspector":
        return bool(user.inspector_id) and user.inspector_id in (order.team or [])
    return False


def order_in_scope(user, order_id: str) -> Order:
    order = db.by_id(Order, order_id)
    if order is None or not _visible(user, order):
        raise NotFound("整改通知书不存在", code="ORDER_NOT_FOUND")
    return order


def finding_in_scope(user, order_id: str, finding_id: str) -> tuple[Order, Finding]:
    order = order_in_scope(user, order_id)
    oid = db.parse_oid(finding_id)
    finding = Finding.objects(id=oid, order_id=str(order.id)).first() if oid else None
    if finding is None:
        raise NotFound("整改问题不存在", code="FINDING_NOT_FOUND")
    return order, finding


def orders_query(user, *, status: str | None = None, institution_id: str | None = None) -> Query:
    """Orders visible to ``user``, newest first: the institution's own, the office's region (``institution_id``:
    one institution of it), the inspector's teams; ``status`` filters."""
    collection = Order._get_collection_name()
    newest = (("issued_at", -1), ("_id", -1))
    if user.role == "institution" and user.institution_id:
        flt: dict[str, Any] = {"institution_id": user.institution_id}
        hint = (("institution_id", 1), *newest)
    elif user.role == "office_admin":
        flt = {"region": region_range(user.region)}
        hint = (*newest, ("region", 1))
        if institution_id:
            flt["institution_id"] = institution_id
    elif user.role == "inspector" and user.inspector_id:
        flt = {"team": user.inspector_id}
        hint = (("team", 1), *newest)
    else:
        return Query(collection, {"_id": None})  # none
    if status:
        flt["status"] = status
    return Query(collection, flt, sort=newest, hint=hint)


def findings_of(order: Order) -> list[Finding]:
    return list(Finding.objects(order_id=str(order.id)).order_by("seq"))


def owed_findings_read(order_ids: list[str], fields: Iterable[str]) -> Read:
    """The read of the findings still owed (not settled) of these orders, by order then seq, as stored: their
    ``order_id``, ``seq`` and ``fields`` (a list that shows a few fields of many findings reads only those)."""
    return Read(Finding._get_collection_name(), {"order_id": {"$in": list(order_ids)},
                                                 "status": {"$nin": list(SETTLED)}},
                projection=dict.fromkeys(("order_id", "seq", *fields), 1), sort=(("order_id", 1), ("seq", 1)),
                key="order_id")


# --- guards shared by both sides ---------------------------------------------------------


def require_open(order: Order) -> None:
    if order.status == "closed":
        raise Conflict("整改通知书已办结，不能再修改", code="ORDER_CLOSED")


def require_not_withdrawn(finding: Finding) -> None:
    if finding.status == "withdrawn":
        raise Conflict("该问题已因检查记录更正而撤销，无需整改", code="FINDING_WITHDRAWN")


def require_owed(finding: Finding) -> None:
    """Refuse work on a finding that is settled: rectified, or withdrawn by a correction."""
    require_not_withdrawn(finding)
    if finding.status == "accepted":
        raise Conflict("该问题已整改通过", code="FINDING_ALREADY_ACCEPTED")


def preselected_for_notice(region: str) -> Iterable[Finding]:
    """Findings the ladder pre-selected for the next public notice and still owed, in ``region``'s subtree."""
    return Finding.objects(__raw__={"region": region_range(region), "preselected_for_notice": True,
                                    "status": {"$nin": list(SETTLED)}}).order_by("region").hint(
        [("region", 1), ("preselected_for_notice", 1)])
