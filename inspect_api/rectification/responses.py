"""Rectification, the institution side: acknowledge an order, answer a finding with photos, ask for more time.

Plain functions with explicit ``now`` and acting user; scoping as in :mod:`inspect_api.rectification.service`.
"""

from __future__ import annotations

from datetime import date, datetime

from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.errors import Conflict, Forbidden, Unprocessable
from inspect_api.notify import service as notify
from inspect_api.rectification.models import ESCALATING, Answer, Extension, Finding, Order
from inspect_api.rectification.service import (MAX_DEADLINE_SHIFT_DAYS, MAX_PHOTOS_PER_ANSWER, PHOTO_OWNER, _d,
                                               _data, finding_in_scope, order_in_scope, require_open, require_owed,
                                               reviewers_of, template_params)
from inspect_api.workdays import business_date


def _require_institution(user, order: Order) -> None:
    if user.role != "institution":
        raise Forbidden("仅被检查机构可以执行此操作", code="ROLE_FORBIDDEN")


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
    require_open(order)
    require_owed(finding)
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
    require_open(order)
    require_owed(finding)
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
    require_open(order)
    require_owed(finding)
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
