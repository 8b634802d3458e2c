"""What a reader of an order or finding is told: labels, working days left, escalation state and next actions.

The portal and the console show these fields as they are: every number
(working days left, overdue counts) and every "may I" (``actions``) is
computed here, from the stored state, the calendar in force and the caller's
role, so no front end repeats a rule.  ``actions`` lists what the calling
user may do next (the service still checks everything when they do it):

* institution: ``acknowledge`` (order), ``answer`` (with ``upload_photo``),
  ``request_extension`` (finding);
* office of the region or the lead inspector: ``review``,
  ``decide_extension``, ``require_reinspection`` (finding).

The review queue (:func:`review_queue`) lists the findings of an office's
region that wait for it: answers to review, extension requests to decide,
critical findings that may need an on-site re-inspection, overdue findings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from inspect_api.batched import Read, read_together
from inspect_api.calendar.service import current_calendar, stamp_read
from inspect_api.db import as_stored, parse_oid
from inspect_api.dumped import day, many, moment, nested, number, text, texts
from inspect_api.errors import Forbidden
from inspect_api.rectification.models import (ESCALATING, FINDING_STATUSES, ORDER_STATUSES, SETTLED, SEVERITIES,
                                              Finding, Order)
from inspect_api.rectification.service import ladder
from inspect_api.scoping import region_range
from inspect_api.workdays import business_date

# The office's queues: name -> (filter, sort).  Each sort is served by an index of Finding.
REVIEW_QUEUES: dict[str, dict[str, Any]] = {  # names: models.REVIEW_QUEUE_NAMES
    "answered": {"filter": {"status": "answered"}},
    "extension_pending": {"filter": {"extension.status": "pending", "status": {"$ne": "withdrawn"}}},
    "critical": {"filter": {"severity": "critical", "status": {"$nin": list(SETTLED)}}},
    "overdue": {"filter": {"overdue": True, "status": {"$in": list(ESCALATING)}}},
}

_FINDING_FIELDS = ("seq", "order_id", "order_number", "institution_id", "region", "item_id", "item_text", "clause",
                   "severity", "deductions", "points_lost", "note", "photo_ids", "status", "deadline",
                   "original_deadline", "deadline_working_days", "reinspection_required", "overdue", "overdue_since",
                   "level", "next_step_due", "preselected_for_notice", "steps", "answers", "extension",
                   "reinspection", "accepted_at", "withdrawn_at", "withdrawn_reason")


def _d(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


class _Context:
    """What every view of one response shares: today, the calendar and the ladder's titles and order."""

    def __init__(self, now: datetime, stamp_rows: list[dict] | None = None):
        self.today = business_date(now)
        self.calendar = current_calendar(stamp_rows)
        steps = list(ladder())
        self.titles = {s.code: s.title for s in steps}
        self.rank = {s.code: i for i, s in enumerate(steps)}

    def days_left(self, deadline: date | None) -> int | None:
        """Working days from today to the deadline (0 = due today, negative = working days overdue)."""
        if deadline is None:
            return None
        return self.calendar.working_days_between(self.today, _d(deadline))


def _is_reviewer(user, order_or_finding) -> bool:
    if user.role == "office_admin":
        return True
    return user.role == "inspector" and bool(user.inspector_id) and \
        user.inspector_id == order_or_finding.lead_inspector_id


def finding_actions(user, finding: Finding, order_status: str) -> list[str]:
    """What ``user`` may do next with ``finding`` (mirrors the service's checks)."""
    if order_status == "closed" or finding.status == "withdrawn":
        return []
    actions: list[str] = []
    if user.role == "institution":
        if finding.status in ESCALATING:
            actions += ["answer", "upload_photo"]
        if finding.status != "accepted" and finding.extension is None:
            actions.append("request_extension")
    elif _is_reviewer(user, finding):
        if finding.status == "answered" and finding.answers:
            actions.append("review")
        if finding.extension is not None and finding.extension.status == "pending":
            actions.append("decide_extension")
        if finding.severity == "critical" and finding.reinspection is None:
            actions.append("require_reinspection")
    return actions


def _finding_view(finding: Finding, user, ctx: _Context, order_status: str) -> dict[str, Any]:
    view = {name: getattr(finding, name, None) for name in _FINDING_FIELDS}
    view["id"] = str(finding.id)
    owed = finding.status in ESCALATING
    view.update({
        "status_name": FINDING_STATUSES.get(finding.status, finding.status),
        "severity_name": SEVERITIES.get(finding.severity, finding.severity),
        "working_days_left": ctx.days_left(finding.deadline) if owed else None,
        "level_title": ctx.titles.get(finding.level) if finding.level else None,
        "actions": finding_actions(user, finding, order_status),
    })
    return view


# ----------------------------------------------------------------- views in their schemas' dumped form
# A review queue page dumped through marshmallow spent a quarter of its time there (each finding's answers,
# steps and extension are nested schemas).  These build the same dump (see inspect_api.dumped).

def _deduction(d) -> dict[str, Any]:
    return {"code": text(d.code), "text": text(d.text), "points": number(d.points, float)}


def _step(step) -> dict[str, Any]:
    return {"code": text(step.code), "title": text(step.title), "due": day(step.due), "at": moment(step.at),
            "deadline": day(step.deadline), "offset_working_days": number(step.offset_working_days, int),
            "recipients": texts(step.recipients)}


def _answer(a) -> dict[str, Any]:
    return {"seq": number(a.seq, int), "description": text(a.description), "photo_ids": texts(a.photo_ids),
            "answered_by": text(a.answered_by), "answered_at": moment(a.answered_at), "late": number(a.late, bool),
            "decision": text(a.decision), "comment": text(a.comment), "reviewed_by": text(a.reviewed_by),
            "reviewed_at": moment(a.reviewed_at), "new_deadline": day(a.new_deadline)}


def _extension(e) -> dict[str, Any]:
    return {"reason": text(e.reason), "requested_deadline": day(e.requested_deadline),
            "previous_deadline": day(e.previous_deadline), "requested_at": moment(e.requested_at),
            "status": text(e.status), "comment": text(e.comment), "decided_at": moment(e.decided_at)}


def _reinspection(r) -> dict[str, Any]:
    return {"assignment_id": text(r.assignment_id), "note": text(r.note), "requested_at": moment(r.requested_at)}


def dumped_finding(view: dict[str, Any]) -> dict[str, Any]:
    """``QueuedFindingSchema``'s dump of a finding's view (:func:`queue_views`); ``FindingSchema``'s of a view
    that names no institution (:func:`finding_view`, :func:`order_detail`)."""
    v = view
    dumped = {
        "id": text(v["id"]), "seq": number(v["seq"], int), "order_id": text(v["order_id"]),
        "order_number": text(v["order_number"]), "institution_id": text(v["institution_id"]),
        "item_id": text(v["item_id"]), "item_text": text(v["item_text"]), "clause": text(v["clause"]),
        "severity": text(v["severity"]), "deductions": many(v["deductions"], _deduction),
        "points_lost": number(v["points_lost"], float), "note": text(v["note"]), "photo_ids": texts(v["photo_ids"]),
        "status": text(v["status"]), "status_name": text(v["status_name"]),
        "severity_name": text(v["severity_name"]), "deadline": day(v["deadline"]),
        "working_days_left": number(v["working_days_left"], int), "original_deadline": day(v["original_deadline"]),
        "deadline_working_days": number(v["deadline_working_days"], int),
        "reinspection_required": number(v["reinspection_required"], bool), "overdue": number(v["overdue"], bool),
        "overdue_since": day(v["overdue_since"]), "level": text(v["level"]), "level_title": text(v["level_title"]),
        "next_step_due": day(v["next_step_due"]), "preselected_for_notice": number(v["preselected_for_notice"], bool),
        "steps": many(v["steps"], _step), "answers": many(v["answers"], _answer),
        "extension": nested(v["extension"], _extension), "reinspection": nested(v["reinspection"], _reinspection),
        "accepted_at": moment(v["accepted_at"]), "withdrawn_at": moment(v["withdrawn_at"]),
        "withdrawn_reason": text(v["withdrawn_reason"]), "actions": texts(v["actions"]),
    }
    if "institution_name" in v:
        dumped["institution_name"] = text(v["institution_name"])
    return dumped


def dumped_order(view: dict[str, Any]) -> dict[str, Any]:
    """``OrderSchema``'s dump of an order's view (:func:`order_page_views`); ``OrderDetailSchema``'s, findings
    included, of :func:`order_detail`'s."""
    v = view
    dumped = {
        "id": text(v["id"]), "number": text(v["number"]), "inspection_id": text(v["inspection_id"]),
        "source": text(v["source"]), "institution_id": text(v["institution_id"]), "region": text(v["region"]),
        "lead_inspector_id": text(v["lead_inspector_id"]), "status": text(v["status"]),
        "status_name": text(v["status_name"]), "institution_name": text(v["institution_name"]),
        "finding_count": number(v["finding_count"], int), "issued_at": moment(v["issued_at"]),
        "acknowledged_at": moment(v["acknowledged_at"]), "closed_at": moment(v["closed_at"]),
        "open_findings": number(v["open_findings"], int), "awaiting_review": number(v["awaiting_review"], int),
        "overdue_findings": number(v["overdue_findings"], int), "next_deadline": day(v["next_deadline"]),
        "working_days_left": number(v["working_days_left"], int), "level": text(v["level"]),
        "level_title": text(v["level_title"]), "actions": texts(v["actions"]),
    }
    if "findings" in v:
        dumped["findings"] = many(v["findings"], dumped_finding)
    return dumped


def finding_view(user, finding: Finding, *, now: datetime) -> dict[str, Any]:
    """One finding for ``user`` (after an answer, review or decision)."""
    order = Order.objects(id=finding.order_id).only("status").first()
    return _finding_view(finding, user, _Context(now), order.status if order else "open")


# What an order's summary reads of its findings.
_SUMMARY_FIELDS = frozenset({"seq", "status", "deadline", "level", "overdue"})


def _summary(findings: list[Any], ctx: _Context) -> dict[str, Any]:
    owed = [f for f in findings if f.status in ESCALATING]
    nearest = min(owed, key=lambda f: _d(f.deadline)) if owed else None
    levels = [f.level for f in owed if f.level in ctx.rank]
    level = max(levels, key=ctx.rank.__getitem__) if levels else None
    return {
        "open_findings": sum(1 for f in findings if f.status not in SETTLED),
        "awaiting_review": sum(1 for f in findings if f.status == "answered"),
        "overdue_findings": sum(1 for f in owed if f.overdue),
        "next_deadline": _d(nearest.deadline) if nearest else None,
        "working_days_left": ctx.days_left(nearest.deadline) if nearest else None,
        "level": level,
        "level_title": ctx.titles.get(level) if level else None,
    }


def _order_base(order: Order, user, names: dict[str, str]) -> dict[str, Any]:
    actions = ["acknowledge"] if user.role == "institution" and order.acknowledged_at is None else []
    return {"id": str(order.id), "number": order.number, "inspection_id": order.inspection_id,
            "source": order.source or "inspection",
            "institution_id": order.institution_id, "institution_name": names.get(order.institution_id),
            "region": order.region, "lead_inspector_id": order.lead_inspector_id, "status": order.status,
            "status_name": ORDER_STATUSES.get(order.status, order.status), "finding_count": order.finding_count,
            "issued_at": order.issued_at, "acknowledged_at": order.acknowledged_at, "closed_at": order.closed_at,
            "actions": actions}


def _names(institution_ids: Iterable[str]) -> dict[str, str]:
    from inspect_api.directory.institutions import institution_names

    return institution_names(institution_ids)


def order_views(user, orders: Iterable[Order], *, now: datetime) -> list[dict[str, Any]]:
    """A page of orders with their summaries (one round trip for the page's findings and names)."""
    return order_page_views(user, orders, now=now)[0]


def order_page_views(user, orders: Iterable[Any], *, now: datetime,
                     count: Read | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """:func:`order_views` (of documents, or of orders as stored), and the result of ``count`` (the page's total,
    when needed): the calendar's stamp, the page's findings and institution names and the total are read in one
    round trip."""
    from inspect_api.directory.institutions import institution_names_from, institution_names_read

    orders = list(orders)
    by_order: dict[str, list[Any]] = {str(o.id): [] for o in orders}
    findings = Read(Finding._get_collection_name(), {"order_id": {"$in": list(by_order)}},
                    projection=dict.fromkeys(("order_id", *_SUMMARY_FIELDS), 1), sort=(("order_id", 1), ("seq", 1)),
                    key="order_id") if orders else None
    stamp, rows, names, total = read_together(
        stamp_read(), findings, institution_names_read(o.institution_id for o in orders), count)
    ctx = _Context(now, stamp)
    for row in rows or []:  # as stored, the summary's fields only: building the findings was most of a page
        by_order[row["order_id"]].append(as_stored(Finding, row, _SUMMARY_FIELDS))
    names = institution_names_from(names)
    return [{**_order_base(o, user, names), **_summary(by_order[str(o.id)], ctx)} for o in orders], total


def order_detail(user, order: Order, *, now: datetime) -> dict[str, Any]:
    """One order with its summary and every finding's view."""
    ctx = _Context(now)
    findings = list(Finding.objects(order_id=str(order.id)).order_by("seq"))
    view = {**_order_base(order, user, _names([order.institution_id])), **_summary(findings, ctx)}
    view["findings"] = [_finding_view(f, user, ctx, order.status) for f in findings]
    return view


def review_queue(user, queue: str, *, institution_id: str | None = None):
    """Findings of the office's region in ``queue``, earliest deadline first (a queryset)."""
    if user.role != "office_admin":
        raise Forbidden("仅办公室管理员可以查看审核队列", code="ROLE_FORBIDDEN")
    query = {**REVIEW_QUEUES[queue]["filter"], "region": region_range(user.region)}
    if institution_id:
        query["institution_id"] = institution_id
    return Finding.objects(__raw__=query).order_by("deadline", "id")


def queue_views(user, findings: Iterable[Finding], *, now: datetime) -> list[dict[str, Any]]:
    """Queued findings with their institution's name: the calendar's stamp, the names and the orders' states
    are read in one round trip."""
    from inspect_api.directory.institutions import institution_names_from, institution_names_read

    findings = list(findings)
    order_ids = sorted({oid for f in findings if (oid := parse_oid(f.order_id))})
    states_read = Read(Order._get_collection_name(), {"_id": {"$in": order_ids}}, projection={"status": 1}) \
        if order_ids else None
    stamp, names, states = read_together(
        stamp_read(), institution_names_read(f.institution_id for f in findings), states_read)
    ctx = _Context(now, stamp)
    names = institution_names_from(names)
    states = {str(row["_id"]): row.get("status") for row in states or []}
    return [{**_finding_view(f, user, ctx, states.get(f.order_id, "open")),
             "institution_name": names.get(f.institution_id)} for f in findings]
