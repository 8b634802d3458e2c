"""Inspectors (检查人员名录): reads, the office's list and edits, employment conflicts, account links.

An inspector account's link is checked when an office creates it
(:func:`check_user_link`); ``Inspector.user_id`` is set when the account is
saved (a post_save signal connected when this module is imported).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from mongoengine import signals

from inspect_api.audit import service as audit
from inspect_api.batched import Read, read_together
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of
from inspect_api.db import contains
from inspect_api.db import by_id, parse_oid
from inspect_api.directory.checks import (
    check_region, field_error, linked_user_exists, normalise_prefix, require_office)
from inspect_api.directory.hooks import inspector_has_history
from inspect_api.directory.institutions import get_institution
from inspect_api.directory.models import Conflict, Inspector
from inspect_api.errors import Conflict as ConflictError
from inspect_api.errors import Forbidden, NotFound, Unprocessable
from inspect_api.scoping import in_scope, prefix_range

INSPECTOR_LIST_INDEX = [("region", 1), ("name", 1), ("_id", 1)]
INSPECTOR_FIELDS = ("name", "certificate_no", "department", "region", "qualifications", "active", "load_cap",
                    "phone", "employment_history")


def get_inspector(inspector_id: str) -> Inspector | None:
    return by_id(Inspector, inspector_id)


def inspectors_by_id(inspector_ids: Iterable[str]) -> dict[str, Inspector]:
    """Many inspectors in one query, by id (unknown or malformed ids are left out)."""
    oids = [oid for oid in (parse_oid(i) for i in set(inspector_ids)) if oid]
    return {str(i.id): i for i in Inspector.objects(id__in=oids)}


def inspector_cards_read(inspector_ids: Iterable[str]) -> Read | None:
    """The read behind :func:`inspector_cards` (for a batch of reads: :mod:`inspect_api.batched`)."""
    oids = [oid for oid in (parse_oid(i) for i in set(inspector_ids)) if oid]
    return Read(Inspector._get_collection_name(), {"_id": {"$in": oids}},
                projection={"name": 1, "certificate_no": 1, "department": 1}) if oids else None


def inspector_cards_from(rows: list[dict] | None) -> dict[str, dict[str, str | None]]:
    return {str(i["_id"]): {"name": i.get("name"), "certificate_no": i.get("certificate_no"),
                            "department": i.get("department")} for i in rows or []}


def inspector_cards(inspector_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """Name, certificate number and department of many inspectors in one query, by id (raw fields: lists and
    bundles show only these; unknown or malformed ids are left out)."""
    return inspector_cards_from(read_together(inspector_cards_read(inspector_ids))[0])


def inspector_for_user(user) -> Inspector | None:
    """The inspector record linked to an inspector account (by the user's link, else by Inspector.user_id)."""
    if user is None or getattr(user, "role", None) != "inspector":
        return None
    if getattr(user, "inspector_id", None):
        inspector = get_inspector(user.inspector_id)
        if inspector is not None:
            return inspector
    return Inspector.objects(user_id=str(user.id)).first()


def inspector_in_scope(user, inspector_id: str) -> Inspector:
    """Office: region subtree; inspector user: own record; otherwise NotFound."""
    inspector = get_inspector(inspector_id)
    if inspector is not None and user is not None:
        if user.role == "office_admin" and in_scope(user.region, inspector.region):
            return inspector
        if user.role == "inspector":
            own = inspector_for_user(user)
            if own is not None and own.id == inspector.id:
                return inspector
    raise NotFound("检查人员不存在", code="INSPECTOR_NOT_FOUND")


def find_inspectors(*, region_prefix: str | None = None, departments=None, active: bool | None = True, ids=None):
    """Inspectors under a region (code or prefix), filtered; ordered by region, name, id."""
    prefix = normalise_prefix(region_prefix)
    query = Inspector.objects(__raw__={"region": prefix_range(prefix)}) if prefix else Inspector.objects
    if ids is not None:
        query = query.filter(id__in=[oid for oid in (parse_oid(i) for i in ids) if oid])
    if departments:
        query = query.filter(department__in=list(departments))
    if active is not None:
        query = query.filter(active=active)
    return query.order_by("region", "name", "id").hint(INSPECTOR_LIST_INDEX)


def list_inspectors(user, *, q: str | None = None, region: str | None = None, department: str | None = None,
                    active: bool | None = None, qualification: str | None = None):
    if user.role == "inspector":
        own = inspector_for_user(user)
        query = Inspector.objects(id=own.id) if own else Inspector.objects.none()
    elif user.role == "office_admin":
        if region and not in_scope(user.region, region):
            return Inspector.objects.none()
        query = find_inspectors(region_prefix=region if region else user.region, active=None)
    else:
        raise Forbidden("当前角色无权查看检查人员名录", code="ROLE_FORBIDDEN")
    if q:
        query = query.filter(__raw__={"name": contains(q[:64])})
    if department:
        query = query.filter(department=department)
    if active is not None:
        query = query.filter(active=active)
    if qualification:
        query = query.filter(qualifications=qualification)
    return query.order_by("region", "name", "id").hint(INSPECTOR_LIST_INDEX)


def _check_employment(ids: list[str]) -> list[str]:
    clean = []
    for value in ids or []:
        if get_institution(value) is None:
            raise field_error("EMPLOYMENT_INSTITUTION_UNKNOWN", "任职经历中的机构不存在", "employment_history")
        if value not in clean:
            clean.append(value)
    return clean


def sync_employment_conflicts(inspector: Inspector, *, now: datetime) -> dict[str, list[str]]:
    """Make the automatic conflicts (source employment_history) match the inspector's employment history."""
    iid = str(inspector.id)
    wanted = set(inspector.employment_history or [])
    existing = {c.institution_id: c for c in Conflict.objects(inspector_id=iid, source="employment_history")}
    removed = [inst for inst in existing if inst not in wanted]
    if removed:
        Conflict.objects(inspector_id=iid, source="employment_history", institution_id__in=removed).delete()
    added = []
    for inst_id in sorted(wanted - set(existing)):
        if Conflict.objects(inspector_id=iid, institution_id=inst_id, reason="employment").only("id").first():
            continue  # an office already recorded the same employment conflict
        institution = get_institution(inst_id)
        if institution is None:
            continue
        Conflict(inspector_id=iid, institution_id=inst_id, reason="employment", source="employment_history",
                 region=institution.region, inspector_name=inspector.name, institution_name=institution.name,
                 created_at=now, note="由任职经历自动生成").save()
        added.append(inst_id)
    return {"added": added, "removed": removed}


def rename_in_conflicts(inspector: Inspector) -> None:
    """A conflict lists its inspector's current name: follow a new name."""
    Conflict.objects(inspector_id=str(inspector.id)).update(set__inspector_name=inspector.name)


def create_inspector(user, data: dict[str, Any], *, now: datetime) -> Inspector:
    require_office(user)
    check_region(user, data["region"])
    if Inspector.objects(certificate_no=data["certificate_no"]).only("id").first() is not None:
        raise ConflictError("该执法证号已登记", code="CERTIFICATE_TAKEN",
                            details={"fields": {"certificate_no": ["已登记"]}})
    history = _check_employment(data.get("employment_history") or [])
    inspector = Inspector(created_at=now, updated_at=now)
    for key in INSPECTOR_FIELDS:
        if key in data:
            setattr(inspector, key, data[key])
    inspector.employment_history = history
    inspector.save(force_insert=True)
    sync = sync_employment_conflicts(inspector, now=now)
    audit.record("inspector.create", actor=actor_of(user), target_type="inspector", target_id=str(inspector.id),
                 region=inspector.region, data={"name": inspector.name, "certificate_no": inspector.certificate_no,
                                                "conflicts": sync}, now=now)
    return inspector


def update_inspector(user, inspector_id: str, data: dict[str, Any], *, now: datetime) -> Inspector:
    require_office(user)
    inspector = inspector_in_scope(user, inspector_id)
    if "region" in data and data["region"] != inspector.region:
        check_region(user, data["region"])
    if "certificate_no" in data and data["certificate_no"] != inspector.certificate_no:
        if Inspector.objects(certificate_no=data["certificate_no"]).only("id").first() is not None:
            raise ConflictError("该执法证号已登记", code="CERTIFICATE_TAKEN",
                                details={"fields": {"certificate_no": ["已登记"]}})
    if "employment_history" in data:
        data = {**data, "employment_history": _check_employment(data["employment_history"])}
    changed = [key for key in INSPECTOR_FIELDS if key in data and getattr(inspector, key) != data[key]]
    for key in changed:
        setattr(inspector, key, data[key])
    if changed:
        inspector.updated_at = now
        inspector.save()
        if "name" in changed:
            rename_in_conflicts(inspector)
        sync = sync_employment_conflicts(inspector, now=now) if "employment_history" in changed else None
        audit.record("inspector.update", actor=actor_of(user), target_type="inspector", target_id=str(inspector.id),
                     region=inspector.region, data={"changed": changed, "conflicts": sync}, now=now)
    return inspector


def delete_inspector(user, inspector_id: str, *, now: datetime) -> tuple[str, Inspector]:
    """Delete an inspector without history (and their conflicts); deactivate one with history."""
    require_office(user)
    inspector = inspector_in_scope(user, inspector_id)
    if inspector_has_history(inspector):
        if inspector.active:
            inspector.active = False
            inspector.updated_at = now
            inspector.save()
            audit.record("inspector.deactivate", actor=actor_of(user), target_type="inspector",
                         target_id=str(inspector.id), region=inspector.region, now=now)
        return "deactivated", inspector
    Conflict.objects(inspector_id=str(inspector.id)).delete()
    inspector.delete()
    audit.record("inspector.delete", actor=actor_of(user), target_type="inspector", target_id=str(inspector.id),
                 region=inspector.region, data={"name": inspector.name,
                                                "certificate_no": inspector.certificate_no}, now=now)
    return "deleted", inspector


def check_user_link(role: str, region: str, institution_id: str | None, inspector_id: str | None,
                    office=None) -> None:
    """Validate the directory link of a new account (called by auth when an office creates a user).

    An institution account must name an institution, an inspector account an
    inspector; the record must lie in the office's region (else NotFound) and
    inside the new account's region (else LINK_REGION_MISMATCH).  An inspector
    record can have one account only.  ``Inspector.user_id`` is set when the
    account is saved (post_save signal below).
    """
    if role == "institution":
        if not institution_id:
            raise field_error("LINK_REQUIRED", "机构账号须关联机构", "institution_id")
        if inspector_id:
            raise field_error("LINK_NOT_ALLOWED", "机构账号不能关联检查人员", "inspector_id")
        record = get_institution(institution_id)
        record_region = record.region if record else None
        missing = NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    elif role == "inspector":
        if not inspector_id:
            raise field_error("LINK_REQUIRED", "检查人员账号须关联检查人员", "inspector_id")
        if institution_id:
            raise field_error("LINK_NOT_ALLOWED", "检查人员账号不能关联机构", "institution_id")
        record = get_inspector(inspector_id)
        record_region = record.region if record else None
        missing = NotFound("检查人员不存在", code="INSPECTOR_NOT_FOUND")
    else:
        if institution_id or inspector_id:
            raise field_error("LINK_NOT_ALLOWED", "办公室账号不能关联机构或检查人员",
                              "institution_id" if institution_id else "inspector_id")
        return
    office_region = getattr(office, "region", None) or region
    if record is None or not in_scope(office_region, record_region):
        raise missing
    if not in_scope(region, record_region):
        raise Unprocessable("账号所属行政区划与关联记录不一致", code="LINK_REGION_MISMATCH",
                            details={"fields": {"region": [f"应为 {record_region} 或其上级区划"]}})
    if role == "inspector":
        if (record.user_id and parse_oid(record.user_id) and User.objects(id=parse_oid(record.user_id)).only("id").first()) \
                or linked_user_exists(inspector_id=str(record.id)):
            raise ConflictError("该检查人员已有账号", code="INSPECTOR_ALREADY_LINKED")


def _link_inspector_on_user_save(sender, document, created=False, **kwargs) -> None:
    if getattr(document, "role", None) == "inspector" and getattr(document, "inspector_id", None):
        oid = parse_oid(document.inspector_id)
        if oid is not None:
            Inspector.objects(id=oid, user_id=None).update_one(set__user_id=str(document.id))


signals.post_save.connect(_link_inspector_on_user_save, sender=User)
