"""Directories (名录库): institutions, inspectors, conflicts of interest (回避), regions, QR check-in tokens.

Plain functions taking the acting user and ``now``.  Scoping: office admins
see their region subtree; institution users only their own institution;
inspectors read only their own inspector record here (their access to
institutions goes through their assignments, in the inspections module).  An
id out of scope answers NotFound, so ids cannot be probed.

Deleting: an entry without history is deleted; an entry with history
(inspections, complaints, risk counters, conflicts, linked accounts, or
anything a module reports through :func:`register_history_check`) is closed
instead (institution ``status = closed``, inspector ``active = false``).

The public read functions near the end (``get_institution``,
``institution_in_scope``, ``find_institutions``, ``find_inspectors``,
``conflict_pairs``, ``record_risk_event``, ``make_checkin_token``,
``verify_checkin_token``, ...) are the contract other modules use.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import Any, Callable, Iterable

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from mongoengine import signals

from inspect_api.urls import public_base_url
from inspect_api.audit import service as audit
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of, register_region_lookup
from inspect_api.directory.creditcode import credit_code_error
from inspect_api.directory.models import (CONFLICT_REASONS, DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES,
                                          SERVICE_TAGS, Conflict, Inspector, Institution, Licence, Region,
                                          RiskProfile)
from inspect_api.directory.regions_data import all_regions
from inspect_api.errors import Conflict as ConflictError
from inspect_api.errors import Forbidden, NotFound, Unprocessable
from inspect_api import db
from inspect_api.db import contains
from inspect_api.scoping import in_scope, is_region_code, prefix_range, region_prefix, region_range

# The index each directory list names as its hint: the region range bounds it and its order is the list's order.
INSTITUTION_LIST_INDEX = [("region", 1), ("name", 1), ("_id", 1)]
INSPECTOR_LIST_INDEX = [("region", 1), ("name", 1), ("_id", 1)]
CONFLICT_LIST_INDEX = [("region", 1), ("_id", 1)]

PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: safe to read aloud and type
PUBLIC_ID_LENGTH = 8
CHECKIN_SALT = "inspect.checkin.v1"
POSTER_SALT = "inspect.poster.v1"
POSTER_LINK_SECONDS = 3600

INSTITUTION_FIELDS = ("name", "credit_code", "kind", "tags", "region", "address", "location", "licences",
                      "care_beds", "medical_beds", "contact_name", "contact_phone", "status", "complaint_count")
INSPECTOR_FIELDS = ("name", "certificate_no", "department", "region", "qualifications", "active", "load_cap",
                    "phone", "employment_history")


# --------------------------------------------------------------------------- regions

def ensure_regions() -> int:
    """Load the built-in division list (idempotent); return how many rows were written."""
    existing = {r["code"]: r for r in Region.objects.as_pymongo()}
    ops = []
    for row in all_regions():
        have = existing.get(row["code"])
        if have and have.get("name") == row["name"] and have.get("parent") == row["parent"] \
                and have.get("level") == row["level"]:
            continue
        ops.append(({"code": row["code"]}, {"$set": {"name": row["name"], "parent": row["parent"],
                                                      "level": row["level"]}}))
    if ops:
        db.upsert_many(Region._get_collection(), ops)
    return len(ops)


def _regions_ready() -> None:
    # The store may have been emptied after start (tests drop the database): reload lazily.
    if Region.objects.only("code").first() is None:
        ensure_regions()


def region_exists(code: str) -> bool:
    if not is_region_code(code):
        return False
    _regions_ready()
    return Region.objects(code=code).only("code").first() is not None


def known_region_codes() -> set[str]:
    _regions_ready()
    return set(Region.objects.scalar("code"))


def list_regions(*, parent: str | None = None, within: str | None = None) -> list[Region]:
    """Regions ordered by code, optionally the children of ``parent`` or the subtree of ``within``."""
    _regions_ready()
    query = Region.objects
    if parent:
        query = query.filter(parent=parent)
    if within:
        query = query.filter(__raw__={"code": prefix_range(region_prefix(within) if is_region_code(within) else within)})
    return list(query.order_by("code"))


_REGION_NAMES: dict[str, str] = {}


def region_names() -> dict[str, str]:
    """Code → name of every division.  Divisions are the built-in list (``ensure_regions`` writes
    nothing else), so each process reads them once instead of on every request."""
    if not _REGION_NAMES:
        _regions_ready()
        _REGION_NAMES.update({r["code"]: r["name"] for r in Region.objects.only("code", "name").as_pymongo()})
    return dict(_REGION_NAMES)


# --------------------------------------------------------------------------- helpers

def _oid(value: object) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def _require_office(user) -> None:
    if getattr(user, "role", None) != "office_admin":
        raise Forbidden("仅办公室管理员可以维护名录库", code="ROLE_FORBIDDEN")


def _field_error(code: str, message: str, field: str) -> Unprocessable:
    return Unprocessable(message, code=code, details={"fields": {field: [message]}})


def _check_region(user, region: str, field: str = "region") -> None:
    if not region_exists(region):
        raise _field_error("REGION_UNKNOWN", "未知的行政区划代码", field)
    if not in_scope(user.region, region):
        raise Forbidden("不能在本辖区以外登记或修改名录", code="REGION_OUT_OF_SCOPE",
                        details={"fields": {field: ["不在本辖区内"]}})


def location_error(lat: object, lon: object) -> str | None:
    """None when (lat, lon) is a valid WGS-84 position, else a Chinese message."""
    try:
        lat_f, lon_f = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "经纬度应为数字"
    if lat_f != lat_f or lon_f != lon_f:
        return "经纬度应为数字"
    if not -90.0 <= lat_f <= 90.0:
        return "纬度应在 -90 到 90 之间"
    if not -180.0 <= lon_f <= 180.0:
        return "经度应在 -180 到 180 之间"
    return None


def _point(location: dict[str, Any] | None) -> dict[str, Any] | None:
    if not location:
        return None
    message = location_error(location.get("lat"), location.get("lon"))
    if message:
        raise _field_error("LOCATION_OUT_OF_RANGE", message, "location")
    return {"type": "Point", "coordinates": [round(float(location["lon"]), 6), round(float(location["lat"]), 6)]}


def point_latlon(point: Any) -> tuple[float, float] | None:
    """(lat, lon) of a stored PointField value (dict or list), or None."""
    if not point:
        return None
    coords = point.get("coordinates") if isinstance(point, dict) else point
    if not coords:
        return None
    return float(coords[1]), float(coords[0])


def new_public_id(taken: set[str] | None = None) -> str:
    """A random public id not used yet (checked against the store and ``taken``)."""
    for _ in range(100):
        candidate = "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
        if taken is not None and candidate in taken:
            continue
        if Institution.objects(public_id=candidate).only("id").first() is None:
            return candidate
    raise RuntimeError("could not find a free public id")


def _credit_code(value: str) -> str:
    message = credit_code_error(value)
    if message:
        raise _field_error("CREDIT_CODE_INVALID", message, "credit_code")
    return value


def _licences(items: Iterable[dict[str, Any]] | None) -> list[Licence]:
    out = []
    for item in items or []:
        if item.get("valid_from") and item.get("valid_until") and item["valid_until"] < item["valid_from"]:
            raise _field_error("LICENCE_DATES_INVALID", "许可证有效期截止日期早于起始日期", "licences")
        out.append(Licence(kind=item["kind"], number=item["number"], valid_from=item.get("valid_from"),
                           valid_until=item.get("valid_until")))
    return out


# --------------------------------------------------------------------------- history hooks

_HISTORY_CHECKS: list[Callable[[str, str], bool]] = []


_ACCESS_CHECKS: list[Callable[[Any, str], bool]] = []


def register_access_check(check: Callable[[Any, str], bool]) -> None:
    """Other modules grant read access to an institution: ``check(user, institution_id)``
    (e.g. inspections: an inspector on one of its assignments' teams)."""
    if check not in _ACCESS_CHECKS:
        _ACCESS_CHECKS.append(check)


def register_history_check(check: Callable[[str, str], bool]) -> None:
    """Other modules report history: ``check(kind, id)`` with kind 'institution' or 'inspector'."""
    if check not in _HISTORY_CHECKS:
        _HISTORY_CHECKS.append(check)


def _linked_user_exists(**link: str) -> bool:
    # Adapter: auth has no read function by link yet; an index-served existence check on users.
    return User.objects(**link).only("id").first() is not None


def institution_has_history(institution: Institution) -> bool:
    iid = str(institution.id)
    risk = institution.risk or RiskProfile()
    if institution.complaint_count or risk.past_findings or risk.overdue_rectifications \
            or risk.rejected_answers or risk.low_satisfaction or risk.last_inspected_at:
        return True
    if Conflict.objects(institution_id=iid).only("id").first() is not None:
        return True
    if _linked_user_exists(institution_id=iid):
        return True
    return any(check("institution", iid) for check in _HISTORY_CHECKS)


def inspector_has_history(inspector: Inspector) -> bool:
    iid = str(inspector.id)
    if inspector.user_id or _linked_user_exists(inspector_id=iid):
        return True
    return any(check("inspector", iid) for check in _HISTORY_CHECKS)


# --------------------------------------------------------------------------- institutions

def get_institution(institution_id: str) -> Institution | None:
    """The institution with this id, or None (also for malformed ids)."""
    oid = _oid(institution_id)
    return Institution.objects(id=oid).first() if oid else None


def institution_names(institution_ids: Iterable[str]) -> dict[str, str]:
    """Names of many institutions in one query (unknown or malformed ids are left out)."""
    oids = [oid for oid in (_oid(i) for i in set(institution_ids)) if oid]
    return {str(i.id): i.name for i in Institution.objects(id__in=oids).only("id", "name")}


def institution_cards(institution_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """Name, address and public id of many institutions in one query (for lists such as a phone's
    assignments; unknown or malformed ids are left out)."""
    oids = [oid for oid in (_oid(i) for i in set(institution_ids)) if oid]
    return {str(i.id): {"name": i.name, "address": i.address, "public_id": i.public_id}
            for i in Institution.objects(id__in=oids).only("id", "name", "address", "public_id")}


def get_institution_by_public_id(public_id: str) -> Institution | None:
    if not isinstance(public_id, str) or len(public_id) > 16:
        return None
    return Institution.objects(public_id=public_id).first()


def institution_in_scope(user, institution_id: str) -> Institution:
    """The institution if ``user`` may see it (office: region subtree; institution user: own; whoever a
    registered access check admits, e.g. an inspector assigned to it), else NotFound."""
    institution = get_institution(institution_id)
    if institution is not None and user is not None:
        if user.role == "office_admin" and in_scope(user.region, institution.region):
            return institution
        if user.role == "institution" and user.institution_id and user.institution_id == str(institution.id):
            return institution
        if any(check(user, str(institution.id)) for check in _ACCESS_CHECKS):
            return institution
    raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")


def find_institutions(*, region_prefix: str, kinds=None, tags=None, statuses=None, ids=None):
    """Institutions under a region (code or raw prefix), filtered; ordered by region, name, id (index-served)."""
    prefix = _normalise_prefix(region_prefix)
    query = Institution.objects(__raw__={"region": prefix_range(prefix)}) if prefix else Institution.objects
    if ids is not None:
        query = query.filter(id__in=[oid for oid in (_oid(i) for i in ids) if oid])
    if kinds:
        query = query.filter(kind__in=list(kinds))
    if tags:
        query = query.filter(tags__in=list(tags))
    if statuses:
        query = query.filter(status__in=list(statuses))
    return query.order_by("region", "name", "id").hint(INSTITUTION_LIST_INDEX)


def _normalise_prefix(value: str | None) -> str:
    if not value:
        return ""
    return region_prefix(value) if is_region_code(value) else value


def list_institutions(user, *, q: str | None = None, region: str | None = None, kind: str | None = None,
                      tag: str | None = None, status: str | None = None):
    """The caller's visible institutions with the list filters (name contains, region prefix, kind, tag, status)."""
    if user.role == "institution":
        query = Institution.objects(id=_oid(user.institution_id)) if _oid(user.institution_id) \
            else Institution.objects.none()
    elif user.role == "office_admin":
        if region and not in_scope(user.region, region):
            return Institution.objects.none()
        query = find_institutions(region_prefix=region if region else user.region)
    else:
        raise Forbidden("当前角色无权查看机构名录", code="ROLE_FORBIDDEN")
    if q:
        query = query.filter(__raw__={"name": contains(q[:64])})
    if kind:
        query = query.filter(kind=kind)
    if tag:
        query = query.filter(tags=tag)
    if status:
        query = query.filter(status=status)
    return query.order_by("region", "name", "id").hint(INSTITUTION_LIST_INDEX)


def _apply_institution(institution: Institution, data: dict[str, Any]) -> list[str]:
    """Set the given fields; return the names of the fields that changed."""
    changed = []
    for key in INSTITUTION_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if key == "credit_code":
            value = _credit_code(value)
        elif key == "location":
            value = _point(value)
        elif key == "licences":
            value = _licences(value)
        elif key == "tags":
            value = sorted(set(value or []), key=SERVICE_TAGS.index)
        old = getattr(institution, key)
        if key == "location":
            same = point_latlon(old) == point_latlon(value)
        elif key == "licences":
            same = [lic.to_mongo().to_dict() for lic in old or []] == [lic.to_mongo().to_dict() for lic in value]
        elif key == "tags":
            same = sorted(set(old or []), key=SERVICE_TAGS.index) == value  # an order is not a change
        else:
            same = old == value
        if not same:
            setattr(institution, key, value)
            changed.append(key)
    return changed


def create_institution(user, data: dict[str, Any], *, now: datetime) -> Institution:
    _require_office(user)
    _check_region(user, data["region"])
    _credit_code(data["credit_code"])
    if Institution.objects(credit_code=data["credit_code"]).only("id").first() is not None:
        raise ConflictError("该统一社会信用代码已登记", code="CREDIT_CODE_TAKEN",
                            details={"fields": {"credit_code": ["已登记"]}})
    institution = Institution(public_id=new_public_id(), created_at=now, updated_at=now, risk=RiskProfile())
    _apply_institution(institution, {"status": "active", **data})
    institution.save(force_insert=True)
    audit.record("institution.create", actor=actor_of(user), target_type="institution",
                 target_id=str(institution.id), region=institution.region,
                 data={"name": institution.name, "credit_code": institution.credit_code}, now=now)
    return institution


def update_institution(user, institution_id: str, data: dict[str, Any], *, now: datetime) -> Institution:
    _require_office(user)
    institution = institution_in_scope(user, institution_id)
    if "region" in data and data["region"] != institution.region:
        _check_region(user, data["region"])
    if "credit_code" in data and data["credit_code"] != institution.credit_code:
        _credit_code(data["credit_code"])
        if Institution.objects(credit_code=data["credit_code"]).only("id").first() is not None:
            raise ConflictError("该统一社会信用代码已登记", code="CREDIT_CODE_TAKEN",
                                details={"fields": {"credit_code": ["已登记"]}})
    changed = _apply_institution(institution, data)
    if changed:
        institution.updated_at = now
        institution.save()
        if "region" in changed:
            move_conflicts_with(institution)
        audit.record("institution.update", actor=actor_of(user), target_type="institution",
                     target_id=str(institution.id), region=institution.region, data={"changed": changed}, now=now)
    return institution


def move_conflicts_with(institution: Institution) -> None:
    """A conflict is scoped by its institution's region: follow the institution when it moves."""
    Conflict.objects(institution_id=str(institution.id)).update(set__region=institution.region)


def delete_institution(user, institution_id: str, *, now: datetime) -> tuple[str, Institution]:
    """Delete an entry without history; close one with history. Returns ('deleted'|'closed', institution)."""
    _require_office(user)
    institution = institution_in_scope(user, institution_id)
    if institution_has_history(institution):
        if institution.status != "closed":
            institution.status = "closed"
            institution.updated_at = now
            institution.save()
            audit.record("institution.close", actor=actor_of(user), target_type="institution",
                         target_id=str(institution.id), region=institution.region, now=now)
        return "closed", institution
    institution.delete()
    audit.record("institution.delete", actor=actor_of(user), target_type="institution",
                 target_id=str(institution.id), region=institution.region,
                 data={"name": institution.name, "credit_code": institution.credit_code}, now=now)
    return "deleted", institution


# --------------------------------------------------------------------------- inspectors

def get_inspector(inspector_id: str) -> Inspector | None:
    oid = _oid(inspector_id)
    return Inspector.objects(id=oid).first() if oid else None


def inspectors_by_id(inspector_ids: Iterable[str]) -> dict[str, Inspector]:
    """Many inspectors in one query, by id (unknown or malformed ids are left out)."""
    oids = [oid for oid in (_oid(i) for i in set(inspector_ids)) if oid]
    return {str(i.id): i for i in Inspector.objects(id__in=oids)}


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
    prefix = _normalise_prefix(region_prefix)
    query = Inspector.objects(__raw__={"region": prefix_range(prefix)}) if prefix else Inspector.objects
    if ids is not None:
        query = query.filter(id__in=[oid for oid in (_oid(i) for i in ids) if oid])
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
            raise _field_error("EMPLOYMENT_INSTITUTION_UNKNOWN", "任职经历中的机构不存在", "employment_history")
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
                 region=institution.region, created_at=now, note="由任职经历自动生成").save()
        added.append(inst_id)
    return {"added": added, "removed": removed}


def create_inspector(user, data: dict[str, Any], *, now: datetime) -> Inspector:
    _require_office(user)
    _check_region(user, data["region"])
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
    _require_office(user)
    inspector = inspector_in_scope(user, inspector_id)
    if "region" in data and data["region"] != inspector.region:
        _check_region(user, data["region"])
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
        sync = sync_employment_conflicts(inspector, now=now) if "employment_history" in changed else None
        audit.record("inspector.update", actor=actor_of(user), target_type="inspector", target_id=str(inspector.id),
                     region=inspector.region, data={"changed": changed, "conflicts": sync}, now=now)
    return inspector


def delete_inspector(user, inspector_id: str, *, now: datetime) -> tuple[str, Inspector]:
    """Delete an inspector without history (and their conflicts); deactivate one with history."""
    _require_office(user)
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


# --------------------------------------------------------------------------- conflicts of interest

def list_conflicts(user, *, inspector_id: str | None = None, institution_id: str | None = None):
    _require_office(user)
    query = Conflict.objects(__raw__={"region": region_range(user.region)})
    if inspector_id:
        query = query.filter(inspector_id=inspector_id)
    if institution_id:
        query = query.filter(institution_id=institution_id)
    return query.order_by("region", "id").hint(CONFLICT_LIST_INDEX)


def create_conflict(user, data: dict[str, Any], *, now: datetime) -> Conflict:
    """Record a conflict of interest; both the inspector and the institution must be in the office's region."""
    _require_office(user)
    institution = institution_in_scope(user, data["institution_id"])
    inspector = inspector_in_scope(user, data["inspector_id"])
    if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        raise _field_error("CONFLICT_DATES_INVALID", "截止日期早于起始日期", "valid_until")
    if Conflict.objects(inspector_id=str(inspector.id), institution_id=str(institution.id),
                        reason=data["reason"]).only("id").first() is not None:
        raise ConflictError("该回避关系已登记", code="CONFLICT_EXISTS")
    conflict = Conflict(inspector_id=str(inspector.id), institution_id=str(institution.id), reason=data["reason"],
                        source=data.get("source") or ("declared" if data["reason"] == "declared" else "office"),
                        note=data.get("note"), valid_from=data.get("valid_from"), valid_until=data.get("valid_until"),
                        region=institution.region, created_at=now)
    conflict.save(force_insert=True)
    audit.record("conflict.create", actor=actor_of(user), target_type="conflict", target_id=str(conflict.id),
                 region=conflict.region, data={"inspector_id": conflict.inspector_id,
                                               "institution_id": conflict.institution_id,
                                               "reason": conflict.reason}, now=now)
    return conflict


def conflict_in_scope(user, conflict_id: str) -> Conflict:
    """A conflict of an institution in the office's region, else NotFound (ids cannot be probed)."""
    _require_office(user)
    oid = _oid(conflict_id)
    conflict = Conflict.objects(id=oid).first() if oid else None
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
        raise _field_error("CONFLICT_DATES_INVALID", "截止日期早于起始日期", "valid_until")
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


# --------------------------------------------------------------------------- risk

def record_risk_event(institution_id: str, *, past_findings: int = 0, overdue_rectifications: int = 0,
                      rejected_answers: int = 0, low_satisfaction: int = 0, inspected_at: datetime | None = None,
                      now: datetime) -> None:
    """Atomically add to an institution's risk counters (negative values correct earlier increments)."""
    oid = _oid(institution_id)
    if oid is None:
        return
    inc = {key: value for key, value in (("risk.past_findings", past_findings),
                                         ("risk.overdue_rectifications", overdue_rectifications),
                                         ("risk.rejected_answers", rejected_answers),
                                         ("risk.low_satisfaction", low_satisfaction)) if value}
    update: dict[str, Any] = {"$set": {"risk.updated_at": now}}
    if inc:
        update["$inc"] = inc
    if inspected_at is not None:
        update["$max"] = {"risk.last_inspected_at": inspected_at}
    Institution._get_collection().update_one({"_id": oid}, update)


def record_risk_events(increments: dict[str, dict[str, int]], *, now: datetime) -> None:
    """Several institutions' risk increments (``{id: {"overdue_rectifications": n, ...}}``) in one bulk write."""
    ops = []
    for institution_id, counts in increments.items():
        oid = _oid(institution_id)
        inc = {f"risk.{key}": value for key, value in counts.items() if value}
        if oid is not None and inc:
            ops.append(({"_id": oid}, {"$inc": inc, "$set": {"risk.updated_at": now}}))
    db.update_many_each(Institution._get_collection(), ops)


# --------------------------------------------------------------------------- QR check-in tokens and posters

def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def make_checkin_token(institution: Institution) -> str:
    """A server-signed token naming the institution and its current QR version."""
    return URLSafeSerializer(_secret(), salt=CHECKIN_SALT).dumps({"i": str(institution.id),
                                                                  "v": int(institution.qr_version or 1)})


def verify_checkin_token(token: str) -> Institution:
    """The institution of a valid, current check-in token; Unprocessable otherwise."""
    try:
        payload = URLSafeSerializer(_secret(), salt=CHECKIN_SALT).loads(str(token))
        institution_id, version = str(payload["i"]), int(payload["v"])
    except (BadData, KeyError, TypeError, ValueError):
        raise Unprocessable("签到二维码无效", code="CHECKIN_TOKEN_INVALID") from None
    institution = get_institution(institution_id)
    if institution is None:
        raise Unprocessable("签到二维码无效", code="CHECKIN_TOKEN_INVALID")
    if version != int(institution.qr_version or 1):
        raise Unprocessable("签到二维码已作废，请扫描机构张贴的新二维码", code="CHECKIN_TOKEN_REVOKED")
    return institution


def reissue_qr(user, institution_id: str, now: datetime) -> Institution:
    """Bump the QR version (office of the region or the institution itself): older tokens are refused."""
    institution = institution_in_scope(user, institution_id)
    Institution.objects(id=institution.id).update_one(inc__qr_version=1, set__updated_at=now)
    institution.reload()
    audit.record("institution.qr_reissue", actor=actor_of(user), target_type="institution",
                 target_id=str(institution.id), region=institution.region,
                 data={"qr_version": institution.qr_version}, now=now)
    return institution


def public_url(institution: Institution) -> str:
    base = public_base_url()
    return f"{base}/p/institutions/{institution.public_id}"


def qr_payload(institution: Institution) -> str:
    """What the poster's QR code holds: the public page URL carrying the check-in token."""
    return f"{public_url(institution)}?t={make_checkin_token(institution)}"


def token_from_payload(payload: str) -> str:
    """The check-in token inside a scanned QR payload (or the payload itself when it is a bare token)."""
    match = re.search(r"[?&]t=([^&#]+)", payload or "")
    return match.group(1) if match else payload


def poster_key(institution: Institution) -> str:
    """A short-lived key that opens the printable poster (which shows the check-in token)."""
    return URLSafeTimedSerializer(_secret(), salt=POSTER_SALT).dumps(
        {"p": institution.public_id, "v": int(institution.qr_version or 1)})


def poster_institution(public_id: str, key: str | None, *, max_age: int = POSTER_LINK_SECONDS) -> Institution | None:
    """The institution whose poster ``key`` opens, or None (unknown, expired, forged or re-issued since)."""
    institution = get_institution_by_public_id(public_id)
    if institution is None or not key:
        return None
    try:
        payload = URLSafeTimedSerializer(_secret(), salt=POSTER_SALT).loads(key, max_age=max_age)
    except BadData:
        return None
    if payload.get("p") != institution.public_id or payload.get("v") != int(institution.qr_version or 1):
        return None
    return institution


# --------------------------------------------------------------------------- user links (auth calls this)

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
            raise _field_error("LINK_REQUIRED", "机构账号须关联机构", "institution_id")
        if inspector_id:
            raise _field_error("LINK_NOT_ALLOWED", "机构账号不能关联检查人员", "inspector_id")
        record = get_institution(institution_id)
        record_region = record.region if record else None
        missing = NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    elif role == "inspector":
        if not inspector_id:
            raise _field_error("LINK_REQUIRED", "检查人员账号须关联检查人员", "inspector_id")
        if institution_id:
            raise _field_error("LINK_NOT_ALLOWED", "检查人员账号不能关联机构", "institution_id")
        record = get_inspector(inspector_id)
        record_region = record.region if record else None
        missing = NotFound("检查人员不存在", code="INSPECTOR_NOT_FOUND")
    else:
        if institution_id or inspector_id:
            raise _field_error("LINK_NOT_ALLOWED", "办公室账号不能关联机构或检查人员",
                               "institution_id" if institution_id else "inspector_id")
        return
    office_region = getattr(office, "region", None) or region
    if record is None or not in_scope(office_region, record_region):
        raise missing
    if not in_scope(region, record_region):
        raise Unprocessable("账号所属行政区划与关联记录不一致", code="LINK_REGION_MISMATCH",
                            details={"fields": {"region": [f"应为 {record_region} 或其上级区划"]}})
    if role == "inspector":
        if (record.user_id and _oid(record.user_id) and User.objects(id=_oid(record.user_id)).only("id").first()) \
                or _linked_user_exists(inspector_id=str(record.id)):
            raise ConflictError("该检查人员已有账号", code="INSPECTOR_ALREADY_LINKED")


def _link_inspector_on_user_save(sender, document, created=False, **kwargs) -> None:
    if getattr(document, "role", None) == "inspector" and getattr(document, "inspector_id", None):
        oid = _oid(document.inspector_id)
        if oid is not None:
            Inspector.objects(id=oid, user_id=None).update_one(set__user_id=str(document.id))


signals.post_save.connect(_link_inspector_on_user_save, sender=User)
register_region_lookup(region_exists)  # accounts are bound to regions that exist


__all__ = [
    "get_institution", "institution_in_scope", "get_inspector", "inspector_for_user", "find_institutions",
    "find_inspectors", "conflict_pairs", "record_risk_event", "make_checkin_token", "verify_checkin_token",
    "reissue_qr", "public_url", "qr_payload", "check_user_link", "register_history_check",
    "CONFLICT_REASONS", "DEPARTMENTS", "INSTITUTION_KINDS", "INSTITUTION_STATUSES",
]
