"""Documents of a ledger spot check: upload (checked, hashed, kept once), read, remove.

PDF and XLSX are checked by :mod:`~inspect_api.ledgers.files` and kept in
GridFS once per SHA-256 (``evidence.store_file``); images go through the
evidence photo pipeline (``evidence.store_photo``: type from the bytes, pixel
cap, EXIF orientation, metadata stripped, display and thumbnail, perceptual
hash).  Every upload carries a ``client_id``: a retry returns the first
result, the same bytes twice for one item are one file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.db import parse_oid
from inspect_api.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from inspect_api.ledgers import files as checks
from inspect_api.ledgers.models import LedgerCheck, LedgerFile
from inspect_api.ledgers.service import check_for, content_of, item_of, settings

MAX_FILES_PER_CHECK = 300
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def _evidence():
    from inspect_api.evidence import service as evidence

    return evidence


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    cleaned = _NAME_UNSAFE.sub("_", name).strip()[:200]
    return cleaned or None


def _require_uploader(user, check: LedgerCheck) -> None:
    if user.role != "institution":
        raise Forbidden("仅被抽查机构可以上传资料", code="ROLE_FORBIDDEN")
    if check.state != "requested":
        raise Conflict("资料已提交或抽查已结束，不能再上传或删除", code="LEDGER_NOT_ACCEPTING",
                       details={"state": check.state})


def upload(user, check_id: str, item_id: str, *, data: bytes, name: str | None, client_id: str, now: datetime,
           config: dict[str, Any] | None = None) -> tuple[LedgerFile, bool]:
    """Store one document for one item; (file, created).  Refusals store nothing."""
    check = check_for(user, check_id)
    client_key = f"{check.id}:{item_id}:{client_id}"
    existing = LedgerFile.objects(client_key=client_key).first()
    if existing is not None:  # a retry of the same upload
        return existing, False
    _require_uploader(user, check)
    item_of(content_of(check), item_id, check.institution_kind)
    cfg = settings(config)
    try:
        checked = checks.check_upload(data, name, checks.Limits.from_config(cfg))
    except checks.FileRejected as exc:
        raise DomainError(exc.message, code=exc.code, status=exc.status, details=exc.details) from exc
    same = LedgerFile.objects(check_id=str(check.id), item_id=item_id, sha256=checked.sha256).first()
    if same is not None:  # the same document again for this item: kept once
        return same, False
    per_item = LedgerFile.objects(check_id=str(check.id), item_id=item_id).count()
    if per_item >= int(cfg["max_files_per_item"]):
        raise Unprocessable(f"每个项目最多上传 {cfg['max_files_per_item']} 个文件", code="LEDGER_TOO_MANY_FILES",
                            details={"item_id": item_id, "max_files": int(cfg["max_files_per_item"])})
    if LedgerFile.objects(check_id=str(check.id)).count() >= MAX_FILES_PER_CHECK:
        raise Unprocessable(f"每次抽查最多上传 {MAX_FILES_PER_CHECK} 个文件", code="LEDGER_TOO_MANY_FILES")
    record = LedgerFile(check_id=str(check.id), item_id=item_id, institution_id=check.institution_id,
                        region=check.region, client_key=client_key, name=_clean_name(name), mime=checked.mime,
                        size=checked.size, sha256=checked.sha256, pages=checked.pages,
                        sheets=[s[:64] for s in checked.sheets[:100]], uploaded_by=str(user.id), uploaded_at=now)
    evidence = _evidence()
    if checked.is_image:
        photo = evidence.store_photo(data, owner_type="ledger_check", owner_id=str(check.id),
                                     institution_id=check.institution_id, region=check.region, label=check.code,
                                     client_id=client_id, uploaded_by=str(user.id), item_id=item_id, now=now,
                                     team=list(check.team), config=config)
        record.kind, record.mime, record.evidence_id = "image", photo.mime, str(photo.id)
    else:
        record.kind = "pdf" if checked.mime == checks.PDF else "xlsx"
        record.file_id = evidence.store_file(data, checked.mime)
    from mongoengine.errors import NotUniqueError

    try:
        record.save(force_insert=True)
    except NotUniqueError:
        return LedgerFile.objects.get(client_key=client_key), False
    audit.record("ledger.file_uploaded", actor=actor_of(user), target_type="ledger_check", target_id=str(check.id),
                 region=check.region, data={"item_id": item_id, "file_id": str(record.id), "sha256": record.sha256,
                                            "kind": record.kind, "size": record.size}, now=now)
    return record, True


def _file_of(check: LedgerCheck, file_id: str) -> LedgerFile:
    oid = parse_oid(file_id)
    record = LedgerFile.objects(id=oid, check_id=str(check.id)).first() if oid else None
    if record is None:
        raise NotFound("资料文件不存在", code="LEDGER_FILE_NOT_FOUND")
    return record


def remove(user, check_id: str, file_id: str, *, now: datetime) -> None:
    """The institution removes a wrong upload before submitting (the bytes stay: they may be shared)."""
    check = check_for(user, check_id)
    _require_uploader(user, check)
    record = _file_of(check, file_id)
    if LedgerFile.objects(id=record.id).delete():
        audit.record("ledger.file_removed", actor=actor_of(user), target_type="ledger_check",
                     target_id=str(check.id), region=check.region,
                     data={"item_id": record.item_id, "file_id": str(record.id), "sha256": record.sha256}, now=now)


def read(user, check_id: str, file_id: str) -> tuple[bytes, str, str, LedgerFile]:
    """(bytes, content type, etag, record) of a document, for whoever may see the check."""
    check = check_for(user, check_id)
    record = _file_of(check, file_id)
    evidence = _evidence()
    if record.kind == "image":
        item = evidence.get_evidence(record.evidence_id)
        if item is None:
            raise NotFound("资料文件不存在", code="LEDGER_FILE_NOT_FOUND")
        data, content_type, etag = evidence.variant_bytes(item, "original")
        return data, content_type, etag, record
    data, content_type, etag = evidence.file_bytes(record.file_id)
    return data, content_type, etag, record
