"""Store photos and signatures: run the pipeline, keep files once by hash, flag reuse.

Callers (inspections, rectification) pass who owns the evidence and who may
read it; reads are authorized here by role and scope.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Callable

from bson import ObjectId
from bson.errors import InvalidId
from mongoengine.errors import NotUniqueError

from inspect_api import db
from inspect_api.batched import Read, read_together
from inspect_api.errors import DomainError, NotFound
from inspect_api.evidence import phash, pipeline
from inspect_api.evidence.models import Evidence
from inspect_api.observability import PHOTO_PIPELINE
from inspect_api.scoping import in_scope

VARIANTS = ("thumb", "display", "original")


def _limits(config: dict[str, Any] | None) -> pipeline.Limits:
    config = config or {}
    kwargs = {}
    if "max_photo_bytes" in config:
        kwargs["max_bytes"] = int(config["max_photo_bytes"])
    if "max_photo_pixels" in config:
        kwargs["max_pixels"] = int(config["max_photo_pixels"])
    return pipeline.Limits(**kwargs)


def _put_file(data: bytes, content_type: str) -> ObjectId:
    """Store bytes once: the GridFS filename is their SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    fs = db.files()
    existing = fs.find_one({"filename": digest})
    if existing is not None:
        return existing._id
    return fs.put(data, filename=digest, content_type=content_type)


def store_file(data: bytes, content_type: str) -> ObjectId:
    """Keep ``data`` in GridFS once per SHA-256 (documents other than photos, e.g. ledger PDFs); its file id."""
    return _put_file(data, content_type)


def file_bytes(file_id: ObjectId) -> tuple[bytes, str, str]:
    """(bytes, content type, SHA-256 file name) of a file kept by :func:`store_file`."""
    stored = db.files().get(file_id)
    return stored.read(), stored.content_type or "application/octet-stream", stored.filename


def phash_bands(value: str | None) -> list[str]:
    """Index keys of a perceptual hash (see :func:`inspect_api.evidence.phash.bands`)."""
    return phash.bands(value)


def _near_duplicates(hashes: list[str], institution_id: str, limit: int = 500) -> list[Evidence]:
    """Photos of other institutions whose perceptual hash is near one of ``hashes``.

    ``hashes`` holds the new photo's current hash and its legacy (v1) hash;
    a stored photo is compared with the one of its own version only.
    """
    hashes = [h for h in hashes if h]
    keys = [key for h in hashes for key in phash.bands(h)]
    if not keys:
        return []
    by_version = {phash.version(h): h for h in hashes}
    found = []
    candidates = Evidence.objects(phash_bands__in=keys, kind="photo",
                                  institution_id__ne=institution_id).only("id", "phash").limit(limit)
    for other in candidates:
        mine = by_version.get(phash.version(other.phash)) if other.phash else None
        if mine is not None and phash.is_near(mine, other.phash):
            found.append(other)
    return found


def _existing(client_key: str, sha256: str | None = None) -> Evidence | None:
    existing = Evidence.objects(client_key=client_key).first()
    if existing is not None and sha256 is not None and existing.sha256 != sha256:
        raise DomainError("同一 client_id 已上传了不同的文件", code="CLIENT_ID_REUSED", status=409)
    return existing


def store_photo(data: bytes, *, owner_type: str, owner_id: str, institution_id: str, region: str, label: str,
                client_id: str, uploaded_by: str, item_id: str | None, now: datetime,
                team: list[str] | None = None, config: dict[str, Any] | None = None,
                fallback_gps: tuple[float, float] | None = None) -> Evidence:
    """Process and store one photo, once per (owner, client_id): a retry returns the first result.

    ``fallback_gps`` (lat, lon), e.g. the inspection's check-in, is watermarked
    when the photo has no valid EXIF GPS; the stored latitude/longitude stay the
    photo's own (None without EXIF GPS).
    """
    client_key = f"{owner_type}:{owner_id}:{client_id}"
    existing = _existing(client_key, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return existing
    try:
        processed = pipeline.process_photo(data, label=label, now=now, limits=_limits(config),
                                           fallback_gps=fallback_gps)
    except pipeline.ImageRejected as exc:
        raise DomainError(exc.message, code=exc.code, status=exc.status) from exc
    PHOTO_PIPELINE.observe(processed.pipeline_ms / 1000)
    reused = _near_duplicates([processed.phash, processed.phash_legacy], institution_id)
    lat, lon = processed.gps if processed.gps else (None, None)
    evidence = Evidence(
        kind="photo", owner_type=owner_type, owner_id=owner_id, item_id=item_id, client_id=client_id,
        client_key=client_key, institution_id=institution_id, region=region, team=list(team or []),
        uploaded_by=uploaded_by, uploaded_at=now, mime=processed.mime, size=len(data),
        width=processed.width, height=processed.height, sha256=processed.sha256, phash=processed.phash,
        phash_bands=phash_bands(processed.phash), captured_at=processed.captured_at, latitude=lat, longitude=lon,
        gps_invalid=bool(processed.gps_invalid), reused=bool(reused), reused_of=[str(r.id) for r in reused],
        original_file=_put_file(processed.original, processed.mime),
        display_file=_put_file(processed.display, "image/jpeg"),
        thumb_file=_put_file(processed.thumb, "image/jpeg"), pipeline_ms=processed.pipeline_ms)
    try:
        evidence.save(force_insert=True)
    except NotUniqueError:
        return Evidence.objects.get(client_key=client_key)
    return evidence


def store_signature(data: bytes, *, owner_type: str, owner_id: str, institution_id: str, region: str,
                    client_id: str, uploaded_by: str, signer_name: str, signer_role: str, now: datetime,
                    team: list[str] | None = None, config: dict[str, Any] | None = None) -> Evidence:
    """Store a signature (PNG strokes) like a photo, once per (owner, client_id)."""
    client_key = f"{owner_type}:{owner_id}:{client_id}"
    existing = _existing(client_key, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return existing
    try:
        processed = pipeline.process_signature(data, limits=_limits(config))
    except pipeline.ImageRejected as exc:
        raise DomainError(exc.message, code=exc.code, status=exc.status) from exc
    png = processed.png
    evidence = Evidence(
        kind="signature", owner_type=owner_type, owner_id=owner_id, client_id=client_id, client_key=client_key,
        institution_id=institution_id, region=region, team=list(team or []), uploaded_by=uploaded_by,
        uploaded_at=now, mime="image/png", size=len(data), width=getattr(processed, "width", None),
        height=getattr(processed, "height", None), sha256=hashlib.sha256(data).hexdigest(),
        signer_name=signer_name, signer_role=signer_role, original_file=_put_file(data, "image/png"),
        display_file=_put_file(png, "image/png"), thumb_file=_put_file(png, "image/png"))
    try:
        evidence.save(force_insert=True)
    except NotUniqueError:
        return Evidence.objects.get(client_key=client_key)
    return evidence


def record_position_check(evidence: Evidence, *, distance_m: float | None, flags: list[str]) -> Evidence:
    """Store how far from its place a photo was taken and why it is flagged (idempotent)."""
    Evidence.objects(id=evidence.id).update_one(set__distance_m=distance_m, set__position_flags=list(flags))
    evidence.reload()
    return evidence


def get_evidence(evidence_id: str) -> Evidence | None:
    try:
        return Evidence.objects(id=ObjectId(str(evidence_id))).first()
    except (InvalidId, TypeError):
        return None


def for_owner(owner_type: str, owner_id: str, kind: str | None = None):
    query = Evidence.objects(owner_type=owner_type, owner_id=owner_id)
    if kind:
        query = query.filter(kind=kind)
    return query.order_by("uploaded_at")


def photo_counts_read(owner_type: str, owner_ids: list[str]) -> Read | None:
    """The read behind :func:`photo_counts` (for a batch of reads: :mod:`inspect_api.batched`)."""
    if not owner_ids:
        return None
    # Owner type and ids only (the owner index's prefix), the kind checked in Python: a server that plans whole
    # filters (the local SecantusDB) serves that from the index, and an unindexed equality beside it would
    # make it scan, or walk the whole index for a hint.
    return Read(Evidence._get_collection_name(), {"owner_type": owner_type, "owner_id": {"$in": list(owner_ids)}},
                projection={"owner_id": 1, "reused": 1, "kind": 1}, key="owner_id")


def photo_counts_from(owner_ids: list[str], rows: list[dict] | None) -> dict[str, dict[str, int]]:
    """``{owner_id: {"photos", "reused"}}`` from the rows of :func:`photo_counts_read`."""
    counts = {owner_id: {"photos": 0, "reused": 0} for owner_id in owner_ids}
    for row in rows or []:
        if row.get("kind") != "photo":
            continue
        entry = counts.setdefault(row["owner_id"], {"photos": 0, "reused": 0})
        entry["photos"] += 1
        entry["reused"] += int(bool(row.get("reused")))
    return counts


def photo_counts(owner_type: str, owner_ids: list[str]) -> dict[str, dict[str, int]]:
    """``{owner_id: {"photos", "reused"}}`` for many owners in one query (the office's lists flag reused evidence)."""
    return photo_counts_from(owner_ids, read_together(photo_counts_read(owner_type, owner_ids))[0])


def can_read(user, evidence: Evidence) -> bool:
    """Office of the region, an inspector of the team, or the institution itself."""
    if user is None:
        return evidence.public
    if user.role == "office_admin":
        return in_scope(user.region, evidence.region)
    if user.role == "institution":
        return bool(user.institution_id) and user.institution_id == evidence.institution_id
    if user.role == "inspector":
        if bool(user.inspector_id) and user.inspector_id in (evidence.team or []):
            return True
        return any(check(user, evidence) for check in _ACCESS_CHECKS)  # registered rules, below
    return False


def readable(user, evidence_id: str) -> Evidence:
    evidence = get_evidence(evidence_id)
    if evidence is None or not can_read(user, evidence):
        raise NotFound("证据文件不存在", code="EVIDENCE_NOT_FOUND")
    return evidence


# Further read rules for inspectors, registered by the modules that know them (inspections: an
# inspector assigned to an institution sees the photos of its earlier inspections).
_ACCESS_CHECKS: list[Callable[[Any, Evidence], bool]] = []


def register_access_check(check: Callable[[Any, Evidence], bool]) -> None:
    """Add a rule ``check(user, evidence) -> bool`` that may admit an inspector (never refuses one)."""
    if check not in _ACCESS_CHECKS:
        _ACCESS_CHECKS.append(check)


def variant_bytes(evidence: Evidence, variant: str) -> tuple[bytes, str, str]:
    """(bytes, content type, etag) of one stored variant."""
    if variant not in VARIANTS:
        raise NotFound("不存在该图片规格", code="VARIANT_NOT_FOUND")
    file_id = {"original": evidence.original_file, "display": evidence.display_file,
               "thumb": evidence.thumb_file}[variant]
    stored = db.files().get(file_id)
    content_type = evidence.mime if variant == "original" else (stored.content_type or "image/jpeg")
    return stored.read(), content_type, stored.filename
