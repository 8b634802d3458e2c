"""Versioned catalog documents (checklists, questionnaires): stored once, draft → published, never changed after.

A version is keyed by code + version.  Storing the same content again returns
the stored one; other content under a stored code + version is refused (409),
so a published version never changes.  Province offices write; the startup
task stores the shipped versions.  Each kind of document states its nouns,
error codes and the fields it derives from its content in a :class:`Kind`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checklists import tools
from mongoengine.errors import NotUniqueError

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.errors import Conflict, Forbidden, NotFound
from inspect_api.scoping import is_region_code, region_level

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """One kind of versioned catalog document."""

    document: type  # the mongoengine Document (code, version, status, content, content_hash, ...)
    noun: str  # in messages: 清单, 问卷
    target_type: str  # in the audit chain: checklist, questionnaire
    code_prefix: str  # of the error codes: CHECKLIST, QUESTIONNAIRE
    derived: Callable[[dict[str, Any]], dict[str, Any]]  # the document's fields read from the content


def require_catalog_writer(user) -> None:
    """Writers of the catalog: office admins of a province (the standards are provincial)."""
    if user.role != "office_admin":
        raise Forbidden("仅办公室可以维护检查清单和抽查事项", code="ROLE_FORBIDDEN")
    if not (is_region_code(user.region) and region_level(user.region) == "province"):
        raise Forbidden("检查清单和抽查事项依据省级地方标准制定，仅省级办公室可以维护", code="PROVINCE_OFFICE_REQUIRED",
                        details={"region": user.region})


def store(kind: Kind, content: dict[str, Any], *, status: str, source: str, now: datetime,
          created_by: str | None) -> tuple[Any, bool]:
    """Insert a version or return the identical existing one; (version, created).

    Safe when several processes store the same version at once (workers starting together):
    the unique (code, version) index lets one insert win; the others compare with it.
    """
    digest = tools.content_hash(content)
    existing = kind.document.objects(code=content["code"], version=int(content["version"])).first()
    if existing is not None:
        if existing.content_hash != digest:
            raise Conflict(f"{kind.noun} {content['code']} 第 {content['version']} 版已存在且内容不同；请使用新的版本号",
                           code=f"{kind.code_prefix}_VERSION_EXISTS",
                           details={"code": existing.code, "version": existing.version,
                                    "content_hash": existing.content_hash})
        return existing, False
    version = kind.document(code=content["code"], version=int(content["version"]), title=content["title"],
                            status=status, content=content, content_hash=digest, source=source,
                            created_by=created_by, created_at=now,
                            published_at=now if status == "published" else None, **kind.derived(content))
    try:
        version.save(force_insert=True)
    except NotUniqueError:  # stored concurrently: compare with the winner as above
        return store(kind, content, status=status, source=source, now=now, created_by=created_by)[0], False
    return version, True


def store_shipped(kind: Kind, contents: Iterable[dict[str, Any]], *, now: datetime) -> list[str]:
    """Store each shipped version that is new (startup task); return ``code@version`` of those added."""
    added = []
    for content in contents:
        try:
            version, created = store(kind, content, status="published", source="shipped", now=now, created_by=None)
        except Conflict:
            log.warning("shipped %s %s v%s differs from the stored version; stored one kept",
                        kind.target_type, content["code"], content["version"])
            continue
        if created:
            added.append(f"{version.code}@{version.version}")
    return added


def upload(kind: Kind, user, content: dict[str, Any], *, now: datetime) -> tuple[Any, bool]:
    """An office stores a validated upload as a draft (the same content again returns the stored one)."""
    require_catalog_writer(user)
    version, created = store(kind, content, status="draft", source="upload", now=now, created_by=str(user.id))
    if created:
        audit.record(f"{kind.target_type}.upload", actor=actor_of(user), target_type=kind.target_type,
                     target_id=f"{version.code}@{version.version}", data={"content_hash": version.content_hash},
                     now=now)
    return version, created


def publish(kind: Kind, user, code: str, version: int, *, now: datetime):
    """Publish a draft version; from then on it is immutable (publishing twice returns it)."""
    require_catalog_writer(user)
    stored = kind.document.objects(code=code, version=version).first()
    if stored is None:
        raise NotFound(f"{kind.noun}版本不存在", code=f"{kind.code_prefix}_NOT_FOUND")
    if stored.status == "published":
        return stored
    kind.document.objects(id=stored.id, status="draft").update_one(set__status="published", set__published_at=now)
    stored.reload()
    audit.record(f"{kind.target_type}.publish", actor=actor_of(user), target_type=kind.target_type,
                 target_id=f"{code}@{version}", data={"content_hash": stored.content_hash}, now=now)
    return stored
