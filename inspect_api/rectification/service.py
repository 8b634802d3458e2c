"""Rectification orders: issue, answer, review, extensions, re-inspection.

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
from typing import Any, Callable, Iterable

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of
from inspect_api.calendar.service import current_calendar
from inspect_api import config as inspect_config
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.notify import service as notify
from inspect_api.rectification.ladder import DEFAULT_LADDER, Ladder
from inspect_api.rectification.models import (ESCALATING, SETTLED, SEVERITIES, Answer, Deduction, Extension, Finding,
                                              Order, OrderCounter, Reinspection)
from inspect_api.scoping import in_scope, parent_region, region_prefix, region_range
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


def _active_ids(query) -> list[str]:
    return [str(u.id) for u in query.filter(active=True).only("id")]


# Account indexes (User meta) named in the recipient queries: a planner that cannot weigh an index
# against the unindexed role/active equalities (the local SecantusDB) would otherwise scan the users.
BY_INSTITUTION = [("institution_id", 1)]
BY_INSPECTOR = [("inspector_id", 1)]
BY_REGION = [("region", 1), ("username", 1)]


def recipients(role: str, finding: Finding) -> list[str]:
    """User ids behind a ladder recipient role for ``finding``.

    institution → the institution's accounts; lead_inspector → the lead's
    account; county_office → office admins of the institution's own region;
    department → office admins of the enclosing region (the supervising
    department above the county); leadership_office → office admins of every
    enclosing region (city and province leadership-group offices).
    """
    if role == "institution":
        return _active_ids(User.objects(role="institution", institution_id=finding.institution_id).hint(BY_INSTITUTION))
    if role == "lead_inspector":
        return _active_ids(User.objects(role="inspector", inspector_id=finding.lead_inspector_id).hint(BY_INSPECTOR))
    if role == "county_office":
        return _active_ids(User.objects(role="office_admin", region=finding.region).hint(BY_REGION))
    parents = []
    code = finding.region
    while (code := parent_region(code)) is not None:
        parents.append(code)
    if role == "department":
        return _active_ids(User.objects(role="office_admin", region__in=parents[:1]).hint(BY_REGION)) if parents else []
    if role == "leadership_office":
        return _active_ids(User.objects(role="office_admin", region__in=parents).hint(BY_REGION)) if parents else []
    return []


class RecipientResolver:
    """:func:`recipients` for many findings with a few prefetch queries (the sweep's bulk path)."""

    def __init__(self, findings: list[dict[str, Any]]):
        inst_ids = list({f["institution_id"] for f in findings})
        lead_ids = list({f["lead_inspector_id"] for f in findings})
        self.institution: dict[str, list[str]] = {}
        for u in User.objects(role="institution", active=True, institution_id__in=inst_ids).hint(
                BY_INSTITUTION).only("id", "institution_id"):
            self.institution.setdefault(u.institution_id, []).append(str(u.id))
        self.lead: dict[str, list[str]] = {}
        for u in User.objects(role="inspector", active=True, inspector_id__in=lead_ids).hint(
                BY_INSPECTOR).only("id", "inspector_id"):
            self.lead.setdefault(u.inspector_id, []).append(str(u.id))
        regions: set[str] = set()
        for f in findings:
            code = f["region"]
            regions.add(code)
            while (code := parent_region(code)) is not None:
                regions.add(code)
        self.office: dict[str, list[str]] = {}
        for u in User.objects(role="office_admin", active=True, region__in=list(regions)).hint(BY_REGION).only("id", "region"):
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
    oid = db.parse_oid(order_id)
    order = Order.objects(id=oid).first() if oid else None
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


def list_orders(user, *, status: str | None = None, institution_id: str | None = None):
    if user.role == "institution":
        if not user.institution_id:
            return Order.objects(id=None)
        query = Order.objects(institution_id=user.institution_id)
        hint = [("institution_id", 1), ("issued_at", -1), ("_id", -1)]
    elif user.role == "office_admin":
        query = Order.objects(__raw__={"region": region_range(user.region)})
        hint = [("issued_at", -1), ("_id", -1), ("region", 1)]
        if institution_id:
            query = query.filter(institution_id=institution_id)
    elif user.role == "inspector":
        if not user.inspector_id:
            return Order.objects(id=None)
        query = Order.objects(team=user.inspector_id)
        hint = [("team", 1), ("issued_at", -1), ("_id", -1)]
    else:
        return Order.objects(id=None)
    if status:
        query = query.filter(status=status)
    return query.order_by("-issued_at", "-id").hint(hint)


def findings_of(order: Order) -> list[Finding]:
    return list(Finding.objects(order_id=str(order.id)).order_by("seq"))


def findings_of_orders(orders) -> dict[str, list[Finding]]:
    """:func:`findings_of` for several orders in one query (order id → its findings by seq)."""
    out: dict[str, list[Finding]] = {str(o.id): [] for o in orders}
    if out:
        for f in Finding.objects(order_id__in=list(out)).order_by("order_id", "seq"):
            out[f.order_id].append(f)
    return out


# --- institution side -----------------------------------------------------------------------


def _require_institution(user, order: Order) -> None:
    if user.role != "institution":
        raise Forbidden("仅被检查机构可以执行此操作", code="ROLE_FORBIDDEN")


def _require_open(order: Order) -> None:
    if order.status == "closed":
        raise Conflict("整改通知书已办结，不能再修改", code="ORDER_CLOSED")


def _require_not_withdrawn(finding: Finding) -> None:
    if finding.status == "withdrawn":
        raise Conflict("该问题已因检查记录更正而撤销，无需整改", code="FINDING_WITHDRAWN")


def _require_owed(finding: Finding) -> None:
    """Refuse work on a finding that is settled: rectified, or withdrawn by a correction."""
    _require_not_withdrawn(finding)
    if finding.status == "accepted":
        raise Conflict("该问题已整改通过", code="FINDING_ALREADY_ACCEPTED")


def acknowledge(user, order_id: str, *, now: datetime) -> Order:
    order = order_in_scope(user, order_id)
    _require_institution(user, order)
    if Order.objects(id=order.id, acknowledged_at=None).update_one(set__acknowledged_at=now,
                                                                  set__acknowledged_by=str(user.id),
                                                                  set__updated_at=now):
        audit.record("rectification.order_acknowledged", actor=actor_of(user), target_type="rectification_order",
                     target_id=str(order.id), region=order.region, now=now)
    order.reload()
    return order


def _check_photos(finding: Finding, photo_ids: list[str]) -> list[str]:
    from inspect_api.evidence.models import Evidence

    ids = list(dict.fromkeys(str(p) for p in photo_ids))
    if len(ids) > MAX_PHOTOS_PER_ANSWER:
        raise Unprocessable(f"每次答复最多 {MAX_PHOTOS_PER_ANSWER} 张照片", code="TOO_MANY_PHOTOS")
    oids = [db.parse_oid(p) for p in ids]
    found = {str(e.id) for e in Evidence.objects(id__in=[o for o in oids if o], owner_type=PHOTO_OWNER,
                                                 owner_id=str(finding.id), kind="photo").only("id")}
    missing = [p for p in ids if p not in found]
    if missing:
        raise Unprocessable("照片不存在或不属于该整改问题，请先上传", code="PHOTO_NOT_FOUND",
                            details={"photo_ids": missing})
    return ids


def answer(user, order_id: str, finding_id: str, *, description: str, photo_ids: list[str],
           client_id: str | None = None, now: datetime) -> Finding:
    """The institution answers one finding (description + photos uploaded for it)."""
    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_institution(user, order)
    if client_id and any(a.client_id == client_id for a in finding.answers):
        return finding
    _require_open(order)
    _require_owed(finding)
    if finding.status == "answered":
        raise Conflict("该问题已答复，正在审核中", code="ANSWER_PENDING_REVIEW")
    ids = _check_photos(finding, photo_ids)
    today = business_date(now)
    ans = Answer(seq=len(finding.answers) + 1, client_id=client_id, description=description, photo_ids=ids,
                 answered_by=str(user.id), answered_at=now, late=today > _d(finding.deadline))
    updated = Finding.objects(id=finding.id, status__in=ESCALATING, answers__size=len(finding.answers)).update_one(
        push__answers=ans, set__status="answered", set__next_step_due=None, set__updated_at=now)
    if not updated:
        raise Conflict("问题状态已变化，请刷新后重试", code="FINDING_STATE_CHANGED")
    finding.reload()
    audit.record("rectification.answered", actor=actor_of(user), target_type="rectification_finding",
                 target_id=str(finding.id), region=finding.region,
                 data={"order_id": finding.order_id, "answer": ans.seq, "late": ans.late, "photos": len(ids)}, now=now)
    notify.notify(reviewers_of(finding), kind="rectification.answered", params=template_params(finding),
                  data=_data(finding, answer=ans.seq), dedupe=f"answered:{finding.id}:{ans.seq}",
                  region=finding.region, now=now)
    return finding


def add_photo(user, order_id: str, finding_id: str, *, data: bytes, client_id: str, now: datetime):
    """Store an answer photo through the evidence pipeline (idempotent by client_id)."""
    from inspect_api.evidence.service import store_photo

    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_institution(user, order)
    _require_open(order)
    _require_owed(finding)
    photo = store_photo(data, owner_type=PHOTO_OWNER, owner_id=str(finding.id), institution_id=finding.institution_id,
                        region=finding.region, label=finding.order_number, client_id=client_id,
                        uploaded_by=str(user.id), item_id=finding.item_id, now=now, team=list(finding.team))
    audit.record("rectification.photo_uploaded", actor=actor_of(user), target_type="rectification_finding",
                 target_id=str(finding.id), region=finding.region, data={"photo_id": str(photo.id),
                                                                         "sha256": photo.sha256}, now=now)
    return photo


def request_extension(user, order_id: str, finding_id: str, *, reason: str, requested_deadline: date,
                      now: datetime) -> Finding:
    """One extension request per finding; the requested date must lie after the current deadline."""
    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_institution(user, order)
    _require_open(order)
    _require_owed(finding)
    if finding.extension is not None:
        raise Conflict("每个问题只能申请一次延期", code="EXTENSION_ALREADY_REQUESTED")
    current = _d(finding.deadline)
    if requested_deadline <= current:
        raise Unprocessable("申请的新期限须晚于当前整改期限", code="EXTENSION_NOT_AFTER_DEADLINE",
                            details={"deadline": current.isoformat(),
                                     "requested_deadline": requested_deadline.isoformat()})
    if (requested_deadline - current).days > MAX_DEADLINE_SHIFT_DAYS:
        raise Unprocessable("申请的新期限不能超过当前期限一年", code="EXTENSION_TOO_LONG",
                            details={"deadline": current.isoformat()})
    ext = Extension(reason=reason, requested_deadline=requested_deadline, previous_deadline=current,
                    requested_by=str(user.id), requested_at=now, status="pending")
    if not Finding.objects(id=finding.id, extension=None).update_one(set__extension=ext, set__updated_at=now):
        raise Conflict("每个问题只能申请一次延期", code="EXTENSION_ALREADY_REQUESTED")
    finding.reload()
    audit.record("rectification.extension_requested", actor=actor_of(user), target_type="rectification_finding",
                 target_id=str(finding.id), region=finding.region,
                 data={"reason": reason, "requested_deadline": requested_deadline.isoformat()}, now=now)
    notify.notify(reviewers_of(finding), kind="rectification.extension_requested",
                  params=template_params(finding, requested_deadline=requested_deadline.isoformat(), reason=reason),
                  data=_data(finding), dedupe=f"extension-requested:{finding.id}", region=finding.region, now=now)
    return finding


# --- review side ------------------------------------------------------------------------------


def _require_reviewer(user, order: Order) -> None:
    if user.role == "office_admin":
        return
    if user.role == "inspector" and user.inspector_id and user.inspector_id == order.lead_inspector_id:
        return
    if user.role == "inspector":
        raise Forbidden("仅检查组组长或辖区办公室可以审核", code="NOT_LEAD_INSPECTOR")
    raise Forbidden("仅检查组组长或辖区办公室可以审核", code="ROLE_FORBIDDEN")


def _maybe_close(order: Order, user, now: datetime) -> None:
    if Finding.objects(order_id=str(order.id), status__nin=list(SETTLED)).count():
        return
    if Order.objects(id=order.id, status="open").update_one(set__status="closed", set__closed_at=now,
                                                           set__updated_at=now):
        audit.record("rectification.order_closed", actor=actor_of(user), target_type="rectification_order",
                     target_id=str(order.id), region=order.region, now=now)
        first = Finding.objects(order_id=str(order.id)).order_by("seq").first()
        notify.notify(recipients("institution", first) + recipients("lead_inspector", first),
                      kind="rectification.closed", params=template_params(first),
                      data={"order_id": str(order.id)}, dedupe=f"order-closed:{order.id}", region=order.region,
                      now=now)


def review(user, order_id: str, finding_id: str, *, decision: str, comment: str,
           new_deadline: date | None = None, now: datetime) -> Finding:
    """Accept or reject the pending answer; rejection reopens the finding with a new deadline."""
    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_reviewer(user, order)
    _require_open(order)
    if finding.status != "answered" or not finding.answers:
        raise Conflict("该问题没有待审核的答复", code="NO_ANSWER_TO_REVIEW")
    today = business_date(now)
    calendar = current_calendar()
    idx = len(finding.answers) - 1
    prefix = f"answers__{idx}__"
    common = {f"set__{prefix}decision": "accepted" if decision == "accept" else "rejected",
              f"set__{prefix}comment": comment, f"set__{prefix}reviewed_by": str(user.id),
              f"set__{prefix}reviewed_at": now, "set__updated_at": now}
    if decision == "accept":
        # Settled: nothing is owed any more, so it no longer stands pre-selected for a notice either.
        ok = Finding.objects(id=finding.id, status="answered").update_one(
            set__status="accepted", set__accepted_at=now, set__next_step_due=None,
            set__preselected_for_notice=False, **common)
    else:
        if new_deadline is None:
            new_deadline = calendar.add_working_days(today, finding.deadline_working_days)
        elif new_deadline <= today:
            raise Unprocessable("新的整改期限须晚于今天", code="NEW_DEADLINE_NOT_IN_FUTURE",
                                details={"new_deadline": new_deadline.isoformat()})
        elif (new_deadline - today).days > MAX_DEADLINE_SHIFT_DAYS:
            raise Unprocessable("新的整改期限不能超过一年", code="NEW_DEADLINE_TOO_FAR",
                                details={"new_deadline": new_deadline.isoformat()})
        moved = move_deadline(finding, new_deadline, today=today, escalating=True, calendar=calendar)
        ok = Finding.objects(id=finding.id, status="answered", deadline=finding.deadline).update_one(
            set__status="reopened", **moved, **{f"set__{prefix}new_deadline": new_deadline}, **common)
    if not ok:
        raise Conflict("问题状态已变化，请刷新后重试", code="FINDING_STATE_CHANGED")
    finding.reload()
    audit.record(f"rectification.answer_{'accepted' if decision == 'accept' else 'rejected'}", actor=actor_of(user),
                 target_type="rectification_finding", target_id=str(finding.id), region=finding.region,
                 data={"answer": idx + 1, "comment": comment,
                       "new_deadline": new_deadline.isoformat() if new_deadline else None}, now=now)
    kind = "rectification.accepted" if decision == "accept" else "rectification.rejected"
    notify.notify(recipients("institution", finding), kind=kind, params=template_params(finding, comment=comment),
                  data=_data(finding, answer=idx + 1), dedupe=f"review:{finding.id}:{idx + 1}",
                  region=finding.region, now=now)
    if decision == "reject":
        record_risk(finding.institution_id, rejected=1, now=now)
    else:
        _maybe_close(order, user, now)
    return finding


def decide_extension(user, order_id: str, finding_id: str, *, approve: bool, comment: str,
                     now: datetime) -> Finding:
    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_reviewer(user, order)
    _require_open(order)
    _require_not_withdrawn(finding)
    if finding.extension is None or finding.extension.status != "pending":
        raise Conflict("没有待审批的延期申请", code="NO_PENDING_EXTENSION")
    updates: dict[str, Any] = {"set__extension__status": "granted" if approve else "denied",
                               "set__extension__comment": comment, "set__extension__decided_by": str(user.id),
                               "set__extension__decided_at": now, "set__updated_at": now}
    if approve:
        updates.update(move_deadline(finding, _d(finding.extension.requested_deadline), today=business_date(now),
                                     escalating=finding.status in ESCALATING))
    # The deadline and status it was computed from must be unchanged (a concurrent review moves them).
    if not Finding.objects(id=finding.id, extension__status="pending", deadline=finding.deadline,
                           status=finding.status).update_one(**updates):
        raise Conflict("延期申请状态已变化", code="FINDING_STATE_CHANGED")
    finding.reload()
    audit.record("rectification.extension_decided", actor=actor_of(user), target_type="rectification_finding",
                 target_id=str(finding.id), region=finding.region,
                 data={"approved": approve, "comment": comment, "deadline": _d(finding.deadline).isoformat()}, now=now)
    notify.notify(recipients("institution", finding), kind="rectification.extension_decided",
                  params=template_params(finding, decision_text="已批准" if approve else "未批准", comment=comment),
                  data=_data(finding), dedupe=f"extension-decided:{finding.id}", region=finding.region, now=now)
    return finding


# Inspections registers how a re-inspection assignment is created (its ``create_assignment``) when the
# rectification blueprint is registered (``rectification.routes``); this module never imports it.
_REINSPECTION_ASSIGNERS: list[Callable[..., Any]] = []


def register_reinspection_assigner(create_assignment: Callable[..., Any]) -> None:
    """Inspections plugs in ``create_assignment`` (keyword arguments, idempotent by ``dedupe_key``)."""
    _REINSPECTION_ASSIGNERS[:] = [create_assignment]


def _create_assignment(**kwargs):
    if not _REINSPECTION_ASSIGNERS:
        raise RuntimeError("inspections is not registered with rectification (create the app first)")
    return _REINSPECTION_ASSIGNERS[0](**kwargs)


def require_reinspection(user, order_id: str, finding_id: str, *, note: str | None, now: datetime) -> Finding:
    """On-site re-inspection (复查) of a critical finding: a targeted assignment for the same team."""
    order, finding = finding_in_scope(user, order_id, finding_id)
    _require_reviewer(user, order)
    _require_open(order)
    _require_not_withdrawn(finding)
    if finding.severity != "critical":
        raise Unprocessable("仅严重问题可以要求现场复查", code="REINSPECTION_ONLY_CRITICAL")
    if order.source == "ledger_check":
        raise Unprocessable("台账资料抽查发现的问题以书面答复整改，不安排现场复查", code="REINSPECTION_NOT_APPLICABLE")
    assignment = _create_assignment(
        institution_id=finding.institution_id, region=finding.region, team=list(order.team), source="targeted",
        checklist_code=order.checklist_code or "", now=now, reason="reinspection",
        reason_note=note or f"整改复查：{finding.order_number} 第 {finding.seq} 项",
        dedupe_key=f"reinspection:{order.id}:{finding.id}", parent_order_id=str(order.id), created_by=str(user.id))
    if Finding.objects(id=finding.id, reinspection=None).update_one(
            set__reinspection=Reinspection(assignment_id=str(assignment.id), note=note, requested_by=str(user.id),
                                           requested_at=now),
            set__reinspection_required=True, set__updated_at=now):
        audit.record("rectification.reinspection_required", actor=actor_of(user),
                     target_type="rectification_finding", target_id=str(finding.id), region=finding.region,
                     data={"assignment_id": str(assignment.id)}, now=now)
        lead = Finding(lead_inspector_id=finding.lead_inspector_id)
        notify.notify(recipients("institution", finding) + recipients("lead_inspector", lead),
                      kind="rectification.reinspection", params=template_params(finding),
                      data=_data(finding, assignment_id=str(assignment.id)),
                      dedupe=f"reinspection:{finding.id}", region=finding.region, now=now)
    finding.reload()
    return finding


def preselected_for_notice(region: str) -> Iterable[Finding]:
    """Findings the ladder pre-selected for the next public notice and still owed, in ``region``'s subtree."""
    return Finding.objects(__raw__={"region": region_range(region), "preselected_for_notice": True,
                                    "status": {"$nin": list(SETTLED)}}).order_by("region").hint(
        [("region", 1), ("preselected_for_notice", 1)])


__all__ = ["open_order", "reconcile_order", "order_in_scope", "finding_in_scope", "list_orders", "acknowledge", "answer", "add_photo",
           "request_extension", "review", "decide_extension", "require_reinspection", "ladder", "recipients",
           "region_prefix", "preselected_for_notice"]
