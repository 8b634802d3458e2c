"""Satisfaction questionnaires in the catalog: shipped versions, uploads, publication, lookup by kind.

Stored and versioned like checklists (:mod:`inspect_api.catalog.versions`):
a published version never changes, the same code + version with other content
is refused (409), province offices write, every signed-in user reads.  The
format and its validator live in :mod:`checklists.questionnaires`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from checklists import loader, questionnaires
from checklists.errors import ChecklistError

from inspect_api.batched import Read
from inspect_api.catalog import versions
from inspect_api.catalog.models import QuestionnaireVersion
from inspect_api.clock import utcnow
from inspect_api.errors import NotFound, PayloadTooLarge, Unprocessable

log = logging.getLogger(__name__)

_PUBLISHED: dict[tuple[str, int], QuestionnaireVersion] = {}
_CACHE_MAX = 64


def parse_upload(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """Parse and validate an uploaded questionnaire (YAML or JSON); 413/422 with every problem."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"问卷文件过大（上限 {max_bytes // 1024} KB）", code="QUESTIONNAIRE_TOO_LARGE")
    try:
        document = loader.load_bytes(data, "upload")
        questionnaires.check(document, "upload")
    except ChecklistError as exc:
        raise Unprocessable("满意度问卷校验未通过", code="QUESTIONNAIRE_INVALID",
                            details={"problems": [p.as_dict() for p in exc.problems]}) from exc
    return document


QUESTIONNAIRES = versions.Kind(document=QuestionnaireVersion, noun="问卷", target_type="questionnaire",
                               code_prefix="QUESTIONNAIRE",
                               derived=lambda c: {"kinds": list(c["kinds"]), "question_count": len(c["questions"])})


def load_shipped_questionnaires(_config: dict[str, Any] | None = None, now: datetime | None = None) -> list[str]:
    """Store each shipped questionnaire whose version is new (startup task); return what was added."""
    return versions.store_shipped(
        QUESTIONNAIRES, (questionnaires.load_questionnaire(p) for p in questionnaires.shipped_questionnaires()),
        now=now or utcnow())


def upload(user, data: bytes, *, max_bytes: int, now: datetime) -> tuple[QuestionnaireVersion, bool]:
    """A province office uploads a new version as a draft."""
    versions.require_catalog_writer(user)
    return versions.upload(QUESTIONNAIRES, user, parse_upload(data, max_bytes=max_bytes), now=now)


def publish(user, code: str, version: int, *, now: datetime) -> QuestionnaireVersion:
    """Publish a draft version; from then on it is immutable (publishing twice returns it)."""
    return versions.publish(QUESTIONNAIRES, user, code, version, now=now)


def get_version(code: str, version: int) -> QuestionnaireVersion | None:
    """A published version (cached per process by content hash; callers must not modify it)."""
    head = QuestionnaireVersion.objects(code=code, version=int(version), status="published").only(
        "content_hash").first()
    if head is None:
        return None
    cached = _PUBLISHED.get((code, int(version)))
    if cached is None or cached.content_hash != head.content_hash:
        if len(_PUBLISHED) >= _CACHE_MAX:
            _PUBLISHED.clear()
        cached = _PUBLISHED[(code, int(version))] = QuestionnaireVersion.objects.get(id=head.id)
    return cached


def for_kind(kind: str | None) -> QuestionnaireVersion | None:
    """The questionnaire an institution of ``kind`` answers: the latest published version of the first
    code (by code) whose kinds include it, or None."""
    if not kind:
        return None
    heads = QuestionnaireVersion.objects(status="published", kinds=kind).order_by("code", "-version").only(
        "code", "version")
    head = heads.first()
    return get_version(head.code, head.version) if head is not None else None


def published_for_kind_read(kind: str | None) -> Read:
    """The read of whether a published questionnaire covers ``kind`` (a row when one does), for a caller that
    batches it (:mod:`inspect_api.batched`); :func:`for_kind` finds the same one."""
    return Read(QuestionnaireVersion._get_collection_name(), {"status": "published", "kinds": kind or ""},
                projection={"code": 1}, limit=1, key="status")


def visible_version(user, code: str, version: int) -> QuestionnaireVersion:
    """Offices also see drafts; everyone else only published versions."""
    stored = get_version(code, version)
    if stored is None and user is not None and user.role == "office_admin":
        stored = QuestionnaireVersion.objects(code=code, version=version).first()
    if stored is None:
        raise NotFound("问卷版本不存在", code="QUESTIONNAIRE_NOT_FOUND")
    return stored


def list_questionnaires(user) -> list[dict[str, Any]]:
    """Questionnaires and their versions, grouped by code (offices also see drafts)."""
    query = QuestionnaireVersion.objects.exclude("content").order_by("code", "version")
    if user is None or user.role != "office_admin":
        query = query.filter(status="published")
    grouped: dict[str, dict[str, Any]] = {}
    for version in query:
        entry = grouped.setdefault(version.code, {"code": version.code, "title": version.title,
                                                  "kinds": list(version.kinds), "latest_version": None,
                                                  "versions": []})
        entry["versions"].append(version)
        if version.status == "published":
            entry.update(latest_version=version.version, title=version.title, kinds=list(version.kinds))
    return list(grouped.values())
