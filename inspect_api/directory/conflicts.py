"""Conflicts of interest (回避关系): recorded by offices or derived from employment history;
:func:`conflict_pairs` is what draws and targeted inspections check."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.db import by_id
from inspect_api.directory.checks import field_error, require_office
from inspect_api.directory.inspectors import inspector_in_scope
from inspect_api.directory.institutions import institution_in_scope
from inspect_api.directory.models import Conflict
from inspect_api.errors import Conflict as ConflictError
from inspect_api.errors import NotFound
from inspect_api.scoping import in_scope, region_range

CONFLICT_LIST_INDEX = [("region", 1), ("_id", 1)]


def list_conflicts(user, *, inspector_id: str | None = None, institution_id: str | None = None):
    require_office(user)
    query = Conflict.objects(__raw__={"region": region_range(user.region)})
    if inspector_id:
        query = query.filter(inspector_id=inspector_id)
    if institution_id:
        query = query.filter(institution_id=institution_id)
    return query.order_by("region", "id").hint(CONFLICT_LIST_INDEX)


def create_conflict(user, data: dict[str, Any], *, now: datetime) -> Conflict:
    """Record a conflict of interest; both the inspector and the institution must be in the office's region."""
    require_office(user)
    institution = institution_in_scope(user, data["institution_id"])
    inspector = inspector_in_scope(user, data["inspector_id"])
    if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        raise field_error("CONFLICT_DATES_INVALID", "截止日期早于起始日期", "valid_until")
    if Conflict.objects(inspector_id=str(inspector.id), institution_id=str(institution.id),
                        reason=data["reason"]).only("id").first() is not None:
        raise ConflictError("该回避关系已登记", code="CONFLICT_EXISTS")
    conflict = Conflict(inspector_id=str(inspector.id), institution_id=str(institution.id), reason=data["reason"],
                        source=data.get("source") or ("declared" if data["reason"] == "declared" else "office"),
                        note=data.get("note"), valid_from=data.get("valid_from"), valid_until=data.get("valid_until"),
                        region=institution.region, inspector_name=inspector.name,
                        institution_name=institution.name, created_at=now)
    conflict.save(force_insert=True)
    audit.record("conflict.create", actor=actor_of(user), target_type="conflict", target_id=str(conflict.id),
                 region=conflict.region, data={"inspector_id": conflict.inspector_id,
                                               "institution_id": conflict.institution_id,
                                               "reason": conflict.reason}, now=now)
    return conflict


def conflict_in_scope(user, conflict_id: str) -> Conflict:
    """A conflict of an institution in the office's region, else NotFound (ids cannot be probed)."""
    require_office(user)
    conflict = by_id(Conflict, conflict_id)
    if conflict is None or not in_scope(user.region, conflict.region):
        raise NotFound("回避关系不存在", code="CONFLICT_NOT_FOUND")
    return conflict


CONFLICT_EDITABLE = ("reason", "note", "valid_from", "valid_until")


def update_conflict(user, conflict_id: str, data: dict[str, Any], *, now: datetime) -> Conflict:
    """Change the reason, validity period or note of a recorded conflict.

    The inspector and the institution are its identity and never change
    (delete and record a new one instead); automatic conflicts follow the
    inspector's employment history and are edited there (409).
    """
    conflict = conflict_in_scope(user, conflict_id)
    if conflict.source == "employment_history":
        raise ConflictError("该回避关系由任职经历自动生成，不能直接修改，请修改检查人员的任职经历",
                            code="CONFLICT_FROM_EMPLOYMENT")
    valid_from = _as_date(data["valid_from"]) if "valid_from" in data else _as_date(conflict.valid_from)
    valid_until = _as_date(data["valid_until"]) if "valid_until" in data else _as_date(conflict.valid_until)
    if valid_from and valid_until and valid_until < valid_from:
        raise field_error("CONFLICT_DATES_INVALID", "截止日期早于起始日期", "valid_until")
    if "reason" in data and data["reason"] != conflict.reason and Conflict.objects(
            inspector_id=conflict.inspector_id, institution_id=conflict.institution_id,
            reason=data["reason"]).only("id").first() is not None:
        raise ConflictError("该回避关系已登记", code="CONFLICT_EXISTS")
    changes: dict[str, list[Any]] = {}
    for key in CONFLICT_EDITABLE:
        if key not in data:
            continue
        old = _as_date(getattr(conflict, key)) if key.startswith("valid_") else getattr(conflict, key)
        if old != data[key]:
            changes[key] = [old.isoformat() if isinstance(old, date) else old,
                            data[key].isoformat() if isinstance(data[key], date) else data[key]]
            setattr(conflict, key, data[key])
    if changes:
        conflict.updated_at = now
        conflict.save()
        audit.record("conflict.update", actor=actor_of(user), target_type="conflict", target_id=str(conflict.id),
                     region=conflict.region, data={"inspector_id": conflict.inspector_id,
                                                   "institution_id": conflict.institution_id,
                                                   "changed": changes}, now=now)
    return conflict


def delete_conflict(user, conflict_id: str, *, now: datetime) -> None:
    conflict = conflict_in_scope(user, conflict_id)
    if conflict.source == "employment_history":
        raise ConflictError("该回避关系由任职经历自动生成，请修改检查人员的任职经历", code="CONFLICT_FROM_EMPLOYMENT")
    conflict.delete()
    audit.record("conflict.delete", actor=actor_of(user), target_type="conflict", target_id=str(conflict.id),
                 region=conflict.region, data={"inspector_id": conflict.inspector_id,
                                               "institution_id": conflict.institution_id}, now=now)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def conflict_pairs(inspector_ids=None, institution_ids=None, on: date | None = None) -> set[tuple[str, str]]:
    """(inspector id, institution id) pairs that must not meet.

    With ``on``, only conflicts valid on that date count; without it every
    recorded conflict counts (the conservative choice for recusal).
    """
    query = Conflict.objects
    if inspector_ids is not None:
        query = query.filter(inspector_id__in=[str(i) for i in inspector_ids])
    if institution_ids is not None:
        query = query.filter(institution_id__in=[str(i) for i in institution_ids])
    pairs: set[tuple[str, str]] = set()
    for row in query.only("inspector_id", "institution_id", "valid_from", "valid_until").as_pymongo():
        if on is not None:
            start, end = _as_date(row.get("valid_from")), _as_date(row.get("valid_until"))
            if (start and on < start) or (end and on > end):
                continue
        pairs.add((row["inspector_id"], row["institution_id"]))
    return pairs
