"""Checklist versions and matters: load shipped YAMLs, accept uploads, publish, diff.

A published version never changes: uploading the same code + version with
other content is refused (409); the same content again is a no-op.

Checklists and the matter catalog derive from Shandong provincial standards
and are shared by every office of the province, so only province-level
offices (region prefix of two digits, e.g. 370000) write them; every
authenticated user reads them.
"""

from __future__ import annotations

import contextlib
import copy
import gzip

import json
import logging
import os
from datetime import datetime
from typing import Any

from checklists import loader, purpose_of, tools, validator
from checklists.errors import ChecklistError

from pymongo.errors import DuplicateKeyError

from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.catalog import versions
from inspect_api.catalog.models import ChecklistVersion, Matter
from inspect_api.catalog.versions import require_catalog_writer
from inspect_api.clock import utcnow
from inspect_api.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable

log = logging.getLogger(__name__)


def _standard_label(content: dict[str, Any]) -> str | None:
    standard = content.get("standard")
    if isinstance(standard, dict):
        return " ".join(filter(None, [standard.get("code"), standard.get("title")])) or None
    return standard


def _item_count(content: dict[str, Any]) -> int:
    return sum(len(section.get("items", [])) for section in content.get("sections", []))


def _problems_details(exc: ChecklistError) -> dict[str, Any]:
    return {"problems": [p.as_dict() for p in exc.problems]}


def parse_upload(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """Parse and validate an uploaded checklist (YAML or JSON); raise 413/422 with every problem."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"清单文件过大（上限 {max_bytes // 1024} KB）", code="CHECKLIST_TOO_LARGE")
    try:
        document = loader.load_bytes(data, "upload")
        validator.check(document, "upload")
    except ChecklistError as exc:
        raise Unprocessable("检查清单校验未通过", code="CHECKLIST_INVALID", details=_problems_details(exc)) from exc
    return document


def _checklist_fields(content: dict[str, Any]) -> dict[str, Any]:
    return {"standard": _standard_label(content), "purpose": purpose_of(content), "item_count": _item_count(content)}


CHECKLISTS = versions.Kind(document=ChecklistVersion, noun="清单", target_type="checklist", code_prefix="CHECKLIST",
                           derived=_checklist_fields)


# Shipped checklists parsed and validated in this process, by file and its size and modification time:
# parsing the YAML is most of a start-up's checklist work, and tests start many apps per process.
_SHIPPED: dict[tuple[str, int, int], dict[str, Any]] = {}


def _shipped_checklist(path) -> dict[str, Any]:
    """A shipped checklist file, validated (a fresh copy: callers may change what they get)."""
    info = os.stat(path)
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key not in _SHIPPED:
        _SHIPPED[key] = loader.load_checklist(path)
    return copy.deepcopy(_SHIPPED[key])


def load_shipped_checklists(_config: dict[str, Any] | None = None, now: datetime | None = None) -> list[str]:
    """Store each shipped checklist whose version is new (startup task); return what was added."""
    return versions.store_shipped(CHECKLISTS, (_shipped_checklist(p) for p in tools.shipped_checklists()),
                                  now=now or utcnow())


def upload(user, data: bytes, *, max_bytes: int, now: datetime) -> tuple[ChecklistVersion, bool]:
    """An office uploads a new version as a draft."""
    require_catalog_writer(user)
    return versions.upload(CHECKLISTS, user, parse_upload(data, max_bytes=max_bytes), now=now)


def publish(user, code: str, version: int, *, now: datetime) -> ChecklistVersion:
    """Publish a draft version; from then on it is immutable."""
    return versions.publish(CHECKLISTS, user, code, version, now=now)


# Published versions never change, so they are cached per process; the cache
# is keyed by content hash too, so a store that was reset (tests, restore)
# can never serve stale content.  Drafts are always read from the store.
# Published versions never change (a draft is published once; its content and hash are fixed), so a version read
# once on this connection is served from memory: the bundle and every answer check skip the database.
_PUBLISHED: dict[tuple[str, int], tuple[int, ChecklistVersion]] = {}
_COMPACT: dict[tuple, bytes] = {}
_CACHE_MAX = 128


def _published(code: str, version: int) -> ChecklistVersion | None:
    cached = _PUBLISHED.get((code, version))
    if cached is not None and cached[0] == db.generation():
        return cached[1]
    found = ChecklistVersion.objects(code=code, version=version, status="published").first()
    if found is None:
        return None
    if len(_PUBLISHED) >= _CACHE_MAX:
        _PUBLISHED.clear()
    _PUBLISHED[(code, version)] = (db.generation(), found)
    return found


def get_version(code: str, version: int) -> ChecklistVersion | None:
    """A published version (what phones and inspections use); callers must not modify it."""
    return _published(code, int(version))


def latest_version(code: str) -> ChecklistVersion | None:
    head = ChecklistVersion.objects(code=code, status="published").order_by("-version").only("version").first()
    return _published(code, head.version) if head is not None else None


def visible_version(user, code: str, version: int) -> ChecklistVersion:
    """Offices also see drafts; everyone else only published versions."""
    stored = get_version(code, version)
    if stored is None and user is not None and user.role == "office_admin":
        stored = ChecklistVersion.objects(code=code, version=version).first()
    if stored is None:
        raise NotFound("清单版本不存在", code="CHECKLIST_NOT_FOUND")
    return stored


def checklist_purpose(version: ChecklistVersion) -> str:
    """``site_inspection`` or ``desk_review`` (versions stored before the field existed are site checklists)."""
    return version.purpose or purpose_of(version.content or {})


def list_checklists(user) -> list[dict[str, Any]]:
    query = ChecklistVersion.objects.exclude("content").order_by("code", "version")
    if user is None or user.role != "office_admin":
        query = query.filter(status="published")
    grouped: dict[str, dict[str, Any]] = {}
    for version in query:
        entry = grouped.setdefault(version.code, {"code": version.code, "title": version.title,
                                                  "purpose": version.purpose or "site_inspection",
                                                  "latest_version": None, "versions": []})
        entry["versions"].append(version)
        if version.status == "published":
            entry["latest_version"] = version.version
            entry["title"] = version.title
            entry["purpose"] = version.purpose or "site_inspection"
    return list(grouped.values())


def compact(version: ChecklistVersion) -> dict[str, Any]:
    """What phones download: the checklist content plus its identity and hash."""
    body = tools.compact(version.content)
    return {"code": version.code, "version": version.version, "status": version.status,
            "content_hash": version.content_hash, "checklist": body}


def compact_json(version: ChecklistVersion) -> bytes:
    """:func:`compact` as UTF-8 JSON bytes, cached for published versions."""
    return _compact_cached(version, "json", lambda: json.dumps(compact(version), ensure_ascii=False,
                                                               separators=(",", ":")).encode("utf-8"))


def compact_gzip(version: ChecklistVersion) -> bytes:
    """:func:`compact_json` gzip-compressed, cached for published versions (compressing it took longer than
    the rest of the request)."""
    return _compact_cached(version, "gzip", lambda: gzip.compress(compact_json(version), compresslevel=6, mtime=0))


def _compact_cached(version: ChecklistVersion, form: str, build) -> bytes:
    key = (version.code, version.version, version.content_hash, version.status, form)
    body = _COMPACT.get(key)
    if body is None:
        body = build()
        if version.status == "published":
            if len(_COMPACT) >= _CACHE_MAX:
                _COMPACT.clear()
            _COMPACT[key] = body
    return body


def diff(user, code: str, from_version: int, to_version: int) -> dict[str, Any]:
    old = visible_version(user, code, from_version)
    new = visible_version(user, code, to_version)
    changes = tools.diff(old.content, new.content)
    return {"code": code, "from_version": from_version, "to_version": to_version, **changes}


# --- matters (抽查事项清单) -------------------------------------------------

def list_matters(*, category: str | None = None, department: str | None = None, active: bool | None = None):
    query = Matter.objects
    if category:
        query = query.filter(category=category)
    if department:
        query = query.filter(department=department)
    if active is not None:
        query = query.filter(active=active)
    return query.order_by("code")


def get_matter(code: str) -> Matter | None:
    return Matter.objects(code=code).first()


def matter_or_404(code: str) -> Matter:
    matter = get_matter(code)
    if matter is None:
        raise NotFound("抽查事项不存在", code="MATTER_NOT_FOUND")
    return matter


def _check_checklist_exists(checklist_code: str) -> None:
    if not ChecklistVersion.objects(code=checklist_code).first():
        raise Unprocessable("引用的检查清单不存在", code="CHECKLIST_NOT_FOUND",
                            details={"checklist_code": checklist_code})


def create_matter(user, data: dict[str, Any], *, now: datetime) -> Matter:
    require_catalog_writer(user)
    if get_matter(data["code"]):
        raise Conflict("事项编码已存在", code="MATTER_CODE_TAKEN")
    _check_checklist_exists(data["checklist_code"])
    matter = Matter(**data, created_by=str(user.id), created_at=now, updated_at=now)
    matter.save(force_insert=True)
    audit.record("matter.create", actor=actor_of(user), target_type="matter", target_id=matter.code,
                 data=data, now=now)
    return matter


def update_matter(user, code: str, data: dict[str, Any], *, now: datetime) -> Matter:
    require_catalog_writer(user)
    matter = matter_or_404(code)
    if "checklist_code" in data:
        _check_checklist_exists(data["checklist_code"])
    for key, value in data.items():
        setattr(matter, key, value)
    matter.updated_at = now
    matter.save()
    audit.record("matter.update", actor=actor_of(user), target_type="matter", target_id=code, data=data, now=now)
    return matter


def retire_matter(user, code: str, *, now: datetime) -> Matter:
    """Matters are referenced by plans, so they are deactivated rather than deleted."""
    return update_matter(user, code, {"active": False}, now=now)


DEFAULT_MATTERS = [
    {"code": "YY-01", "name": "医养结合机构医疗服务质量与安全", "category": "key", "department": "health",
     "checklist_code": "DB37T4086-2020",
     "legal_basis": "《基本医疗卫生与健康促进法》《医疗机构管理条例》；DB37/T 4086-2020《机构医养结合服务基本规范》"},
    {"code": "YY-02", "name": "养老机构内设医疗机构执业情况", "category": "key", "department": "health",
     "checklist_code": "DB37T4086-2020",
     "legal_basis": "《医疗机构管理条例》《养老机构管理办法》；DB37/T 4086-2020"},
    {"code": "YY-03", "name": "养老服务质量与安全管理", "category": "general", "department": "civil_affairs",
     "checklist_code": "DB37T4086-2020", "legal_basis": "《老年人权益保障法》《养老机构管理办法》；DB37/T 4086-2020"},
    {"code": "YY-04", "name": "社区医养结合服务", "category": "general", "department": "health",
     "checklist_code": "DB37T4087-2020", "legal_basis": "《基本医疗卫生与健康促进法》；DB37/T 4087-2020《社区医养结合服务基本规范》"},
    {"code": "YY-05", "name": "医保定点医养结合机构医保基金使用", "category": "key", "department": "medical_insurance",
     "checklist_code": "DB37T4086-2020", "legal_basis": "《医疗保障基金使用监督管理条例》"},
    {"code": "YY-06", "name": "医养结合服务台账资料抽查（每半年）", "category": "general", "department": "health",
     "checklist_code": "DB37T4086-2020-TZ",
     "legal_basis": "DB37/T 4086-2020《机构医养结合服务基本规范》、DB37/T 4087-2020《社区医养结合服务基本规范》；"
                    "医养结合工作领导小组办公室“查阅资料+现场测评”考核要求"},
]


def load_default_matters(_config: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Seed the default matters once (startup task); offices edit them afterwards.

    One upsert per matter that only inserts (``$setOnInsert``): an edited matter is never
    overwritten, and several processes starting together on an empty database insert each
    matter once (a lost upsert race is a duplicate-key error, which means "already there").
    """
    now = now or utcnow()
    existing = set(Matter.objects(code__in=[m["code"] for m in DEFAULT_MATTERS]).scalar("code"))
    coll = Matter._get_collection()
    for data in DEFAULT_MATTERS:
        if data["code"] in existing:
            continue
        matter = Matter(**data, created_by="system", created_at=now, updated_at=now)
        matter.validate()
        doc = matter.to_mongo().to_dict()
        with contextlib.suppress(DuplicateKeyError):
            coll.update_one({"code": data["code"]}, {"$setOnInsert": doc}, upsert=True)
