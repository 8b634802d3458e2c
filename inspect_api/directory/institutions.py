"""Institutions (机构名录): reads other areas use, the office's list and edits, risk counters.

The directory is split by record: institutions (here), :mod:`~inspect_api.directory.inspectors`,
:mod:`~inspect_api.directory.conflicts`, :mod:`~inspect_api.directory.regions` and
:mod:`~inspect_api.directory.qr` (check-in tokens and posters).

Plain functions taking the acting user and ``now``.  Scoping: office admins
see their region subtree; institution users only their own institution;
inspectors read only their own inspector record here (their access to
institutions goes through their assignments, in the inspections module).  An
id out of scope answers NotFound, so ids cannot be probed.

Deleting: an entry without history is deleted; an entry with history
(inspections, complaints, risk counters, conflicts, linked accounts, or
anything a module reports through
:func:`~inspect_api.directory.hooks.register_history_check`) is closed instead
(institution ``status = closed``, inspector ``active = false``).

The read functions (``get_institution``, ``institution_in_scope``,
``find_institutions``, ``record_risk_event`` here; ``find_inspectors``,
``conflict_pairs``, ``make_checkin_token``, ``verify_checkin_token``, ... in
their modules) are the contract other modules use.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Iterable, Iterator

from inspect_api import db
from inspect_api.batched import Query, Read, count_unless_known, paged, read_together
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.db import contains
from inspect_api.directory.checks import check_region, field_error, normalise_prefix, require_office
from inspect_api.directory.creditcode import credit_code_error
from inspect_api.directory.hooks import access_granted, institution_has_history
from inspect_api.directory.models import SERVICE_TAGS, Conflict, Institution, Licence, RiskProfile
from inspect_api.errors import Conflict as ConflictError
from inspect_api.errors import Forbidden, NotFound
from inspect_api.scoping import in_scope, prefix_range

# The index each directory list names as its hint: the region range bounds it and its order is the list's order.
INSTITUTION_LIST_INDEX = [("region", 1), ("name", 1), ("_id", 1)]
PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: safe to read aloud and type
PUBLIC_ID_LENGTH = 8
INSTITUTION_FIELDS = ("name", "credit_code", "kind", "tags", "region", "address", "location", "licences",
                      "care_beds", "medical_beds", "contact_name", "contact_phone", "status", "complaint_count")


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
        raise field_error("LOCATION_OUT_OF_RANGE", message, "location")
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
        raise field_error("CREDIT_CODE_INVALID", message, "credit_code")
    return value


def _licences(items: Iterable[dict[str, Any]] | None) -> list[Licence]:
    out = []
    for item in items or []:
        if item.get("valid_from") and item.get("valid_until") and item["valid_until"] < item["valid_from"]:
            raise field_error("LICENCE_DATES_INVALID", "许可证有效期截止日期早于起始日期", "licences")
        out.append(Licence(kind=item["kind"], number=item["number"], valid_from=item.get("valid_from"),
                           valid_until=item.get("valid_until")))
    return out


def get_institution(institution_id: str) -> Institution | None:
    """The institution with this id, or None (also for malformed ids)."""
    return db.by_id(Institution, institution_id)


def institution_names_read(institution_ids: Iterable[str]) -> Read | None:
    """The read behind :func:`institution_names` (for a batch of reads: :mod:`inspect_api.batched`)."""
    oids = [oid for oid in (db.parse_oid(i) for i in set(institution_ids)) if oid]
    return Read(Institution._get_collection_name(), {"_id": {"$in": oids}}, projection={"name": 1}) if oids else None


def institution_names_from(rows: list[dict] | None) -> dict[str, str]:
    return {str(row["_id"]): row.get("name") for row in rows or []}


def institution_names(institution_ids: Iterable[str]) -> dict[str, str]:
    """Names of many institutions in one query (unknown or malformed ids are left out)."""
    return institution_names_from(read_together(institution_names_read(institution_ids))[0])


def institution_cards_read(institution_ids: Iterable[str]) -> Read | None:
    """The read behind :func:`institution_cards` (for a batch of reads: :mod:`inspect_api.batched`)."""
    oids = [oid for oid in (db.parse_oid(i) for i in set(institution_ids)) if oid]
    return Read(Institution._get_collection_name(), {"_id": {"$in": oids}},
                projection={"name": 1, "address": 1, "public_id": 1}) if oids else None


def institution_cards_from(rows: list[dict] | None) -> dict[str, dict[str, str | None]]:
    return {str(i["_id"]): {"name": i.get("name"), "address": i.get("address"), "public_id": i.get("public_id")}
            for i in rows or []}


def institution_cards(institution_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """Name, address and public id of many institutions in one query (for lists such as a phone's
    assignments; unknown or malformed ids are left out)."""
    return institution_cards_from(read_together(institution_cards_read(institution_ids))[0])


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
        if access_granted(user, str(institution.id)):
            return institution
    raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")


def find_institutions(*, region_prefix: str, kinds=None, tags=None, statuses=None, ids=None):
    """Institutions under a region (code or raw prefix), filtered; ordered by region, name, id (index-served)."""
    prefix = normalise_prefix(region_prefix)
    query = Institution.objects(__raw__={"region": prefix_range(prefix)}) if prefix else Institution.objects
    if ids is not None:
        query = query.filter(id__in=[oid for oid in (db.parse_oid(i) for i in ids) if oid])
    if kinds:
        query = query.filter(kind__in=list(kinds))
    if tags:
        query = query.filter(tags__in=list(tags))
    if statuses:
        query = query.filter(status__in=list(statuses))
    return query.order_by("region", "name", "id").hint(INSTITUTION_LIST_INDEX)


def institutions_query(user, *, q: str | None = None, region: str | None = None, kind: str | None = None,
                       tag: str | None = None, status: str | None = None) -> Query:
    """The caller's visible institutions with the list filters (name contains, region prefix, kind, tag,
    status), in (region, name, id) order: an office's region subtree, an institution account its own."""
    collection = Institution._get_collection_name()
    if user.role == "institution":
        return Query(collection, {"_id": db.parse_oid(user.institution_id)})  # no id: matches nothing
    if user.role != "office_admin":
        raise Forbidden("当前角色无权查看机构名录", code="ROLE_FORBIDDEN")
    if region and not in_scope(user.region, region):
        return Query(collection, {"_id": None})
    prefix = normalise_prefix(region or user.region)
    flt: dict[str, Any] = {"region": prefix_range(prefix)} if prefix else {}
    if q:
        flt["name"] = contains(q[:64])
    for name, value in (("kind", kind), ("tags", tag), ("status", status)):
        if value:
            flt[name] = value
    order = tuple((name, 1) for name, _direction in INSTITUTION_LIST_INDEX)
    return Query(collection, flt, sort=order, hint=order)


def institutions_page(user, page: int, per_page: int, **filters: Any) -> dict[str, Any]:
    """A page of :func:`institutions_query` with its rows read as stored (:func:`listed_institutions`), and its
    total counted only when the page does not tell it."""
    page_read, count_read = institutions_query(user, **filters).page(page, per_page)
    rows = read_together(page_read)[0]
    total = read_together(count_unless_known(count_read, rows, page, per_page))[0]
    return paged(list(listed_institutions(rows)), total, page, per_page)


def listed_institutions(rows: Iterable[dict[str, Any]]) -> Iterator[SimpleNamespace]:
    """Stored institutions as their documents would read (:func:`~inspect_api.db.as_stored`), for a list page
    or an export (lazily: an export streams them)."""
    return (db.as_stored(Institution, row) for row in rows)


def apply_institution(institution: Institution, data: dict[str, Any]) -> list[str]:
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
    require_office(user)
    check_region(user, data["region"])
    _credit_code(data["credit_code"])
    if Institution.objects(credit_code=data["credit_code"]).only("id").first() is not None:
        raise ConflictError("该统一社会信用代码已登记", code="CREDIT_CODE_TAKEN",
                            details={"fields": {"credit_code": ["已登记"]}})
    institution = Institution(public_id=new_public_id(), created_at=now, updated_at=now, risk=RiskProfile())
    apply_institution(institution, {"status": "active", **data})
    institution.save(force_insert=True)
    audit.record("institution.create", actor=actor_of(user), target_type="institution",
                 target_id=str(institution.id), region=institution.region,
                 data={"name": institution.name, "credit_code": institution.credit_code}, now=now)
    return institution


def update_institution(user, institution_id: str, data: dict[str, Any], *, now: datetime) -> Institution:
    require_office(user)
    institution = institution_in_scope(user, institution_id)
    if "region" in data and data["region"] != institution.region:
        check_region(user, data["region"])
    if "credit_code" in data and data["credit_code"] != institution.credit_code:
        _credit_code(data["credit_code"])
        if Institution.objects(credit_code=data["credit_code"]).only("id").first() is not None:
            raise ConflictError("该统一社会信用代码已登记", code="CREDIT_CODE_TAKEN",
                                details={"fields": {"credit_code": ["已登记"]}})
    changed = apply_institution(institution, data)
    if changed:
        institution.updated_at = now
        institution.save()
        if "region" in changed or "name" in changed:
            move_conflicts_with(institution)
        audit.record("institution.update", actor=actor_of(user), target_type="institution",
                     target_id=str(institution.id), region=institution.region, data={"changed": changed}, now=now)
    return institution


def move_conflicts_with(institution: Institution) -> None:
    """A conflict is scoped by its institution's region and lists its name: follow a move or a new name."""
    Conflict.objects(institution_id=str(institution.id)).update(set__region=institution.region,
                                                                set__institution_name=institution.name)


def delete_institution(user, institution_id: str, *, now: datetime) -> tuple[str, Institution]:
    """Delete an entry without history; close one with history. Returns ('deleted'|'closed', institution)."""
    require_office(user)
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


def record_risk_event(institution_id: str, *, past_findings: int = 0, overdue_rectifications: int = 0,
                      rejected_answers: int = 0, low_satisfaction: int = 0, inspected_at: datetime | None = None,
                      now: datetime) -> None:
    """Atomically add to an institution's risk counters (negative values correct earlier increments)."""
    oid = db.parse_oid(institution_id)
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
        oid = db.parse_oid(institution_id)
        inc = {f"risk.{key}": value for key, value in counts.items() if value}
        if oid is not None and inc:
            ops.append(({"_id": oid}, {"$inc": inc, "$set": {"risk.updated_at": now}}))
    db.update_many_each(Institution._get_collection(), ops)
