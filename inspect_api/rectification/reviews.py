"""Rectification, the reviewer side: accept or reject answers, decide extensions, require an on-site re-inspection.

Reviewers are the lead inspector and the office of the region; closing the last owed finding closes the order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.calendar.service import current_calendar
from inspect_api.errors import Conflict, Forbidden, Unprocessable
from inspect_api.notify import service as notify
from inspect_api.rectification.models import ESCALATING, SETTLED, Finding, Order, Reinspection
from inspect_api.rectification.service import (MAX_DEADLINE_SHIFT_DAYS, _d, _data, finding_in_scope, move_deadline,
                                               recipients, require_not_withdrawn, require_open, record_risk,
                                               template_params)
from inspect_api.workdays import business_date


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
    require_open(order)
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
    require_open(order)
    require_not_withdrawn(finding)
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
    require_open(order)
    require_not_withdrawn(finding)
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
