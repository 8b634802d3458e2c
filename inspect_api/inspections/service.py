"""Inspection logic: assignments, offline bundle, check-in, batch sync, evidence, submission, corrections.

Plain functions with explicit ``now`` and acting user; they raise DomainError
subclasses.  Identity: an inspection's id is its assignment's id (one
inspection per assignment, created lazily by :func:`ensure_inspection`).

Submission is a chain of idempotent, resumable steps (see ``inspect_api.db``):
lock (``submission_started_at``), score and freeze findings, open the
rectification order (idempotent by inspection id), record the risk event
(guarded by ``risk_recorded``), freeze the report and its hash, mark the
assignment, and flip ``state`` to ``submitted`` last.  A replay after the flip
returns the stored result; a retry after a crash finishes the missing steps.

Other modules are reached only through their services; the small adapters at
the top (``_directory``, ``checklist_version``, ``_score``) are the only places
that know their names.  Rectification, which sits above, is never imported: it
registers its order functions (:func:`register_rectification`) at app start.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from typing import Any, Callable

from bson import ObjectId
from bson.errors import InvalidId
from mongoengine.errors import NotUniqueError

from inspect_api import db, vocabulary
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, as_utc, isoformat
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.inspections.models import (
    SIGNER_ROLES, TARGETED_REASONS, Assignment, CheckIn, Correction, Inspection, InspectionCounter, ItemResponse,
    ResponseWrite, SignatureRef)
from inspect_api.scoping import in_scope, region_range

DEFAULT_RADIUS_M = 300.0
COMMUNITY_CHECKLIST = "DB37T4087-2020"
INSTITUTION_CHECKLIST = "DB37T4086-2020"
RESULT_NAMES = vocabulary.RESULTS

# Short human prefixes for inspection codes by city (Shandong); others use "JC".
CITY_PREFIXES = {
    "3701": "JN", "3702": "QD", "3703": "ZB", "3704": "ZZ", "3705": "DY", "3706": "YT", "3707": "WF",
    "3708": "JG", "3709": "TA", "3710": "WH", "3711": "RZ", "3713": "LY", "3714": "DZ", "3715": "LC",
    "3716": "BZ", "3717": "HZ",
}


# --------------------------------------------------------------------------- adapters to other modules

def _directory():
    from inspect_api.directory import service as directory

    return directory


def checklist_version(code: str, version: int | None = None) -> dict[str, Any] | None:
    """``{code, version, content, content_hash}`` of a published checklist version (latest when None)."""
    from inspect_api.catalog import service as catalog

    found = catalog.get_version(code, version) if version else catalog.latest_version(code)
    if found is None:
        return None
    return {"code": found.code, "version": found.version, "content": found.content,
            "content_hash": found.content_hash}


def _assigned_inspector_may_read(user, institution_id: str) -> bool:
    """An inspector may read an institution it is (or was) assigned to inspect."""
    if getattr(user, "role", None) != "inspector":
        return False
    inspector_id = inspector_id_of(user)
    return bool(inspector_id) and Assignment.objects(institution_id=institution_id, team=inspector_id,
                                                     status__ne="cancelled").only("id").first() is not None


def _has_assignments(kind: str, record_id: str) -> bool:
    """Directory history: an institution or inspector that has assignments is closed, not deleted."""
    if kind == "institution":
        return Assignment.objects(institution_id=record_id).only("id").first() is not None
    if kind == "inspector":
        return Assignment.objects(team=record_id).only("id").first() is not None
    return False


def _assigned_inspector_may_see_photo(user, evidence) -> bool:
    """An inspector assigned to an institution sees the photos of its inspections (the open findings
    it goes to check on site), not their signatures."""
    return (evidence.kind == "photo" and evidence.owner_type == "inspection"
            and _assigned_inspector_may_read(user, evidence.institution_id))


def register_with_directory() -> None:
    """Directory and evidence hooks: what an assigned inspector may read, and assignments as history."""
    directory = _directory()
    directory.register_access_check(_assigned_inspector_may_read)
    directory.register_history_check(_has_assignments)
    _evidence().register_access_check(_assigned_inspector_may_see_photo)


def _score(content: dict[str, Any], responses: dict[str, dict[str, Any]], kind: str | None):
    from checklists.scoring import score

    return score(content, responses, kind=kind)


# Rectification (整改) sits above inspections: it registers how orders are opened, reconciled and
# read when its blueprint is registered (``rectification.routes``); this module never imports it.
_RECTIFICATION: dict[str, Callable[..., Any]] = {}


def register_rectification(*, open_order: Callable[..., Any], reconcile_order: Callable[..., Any],
                           list_orders: Callable[..., Any], findings_of: Callable[..., Any]) -> None:
    """Rectification plugs in its order functions (same signatures as in ``rectification.service``)."""
    _RECTIFICATION.update(open_order=open_order, reconcile_order=reconcile_order, list_orders=list_orders,
                          findings_of=findings_of)


def _rectification(name: str) -> Callable[..., Any]:
    try:
        return _RECTIFICATION[name]
    except KeyError:
        raise RuntimeError("rectification is not registered with inspections (create the app first)") from None


def _open_order(**kwargs):
    return _rectification("open_order")(**kwargs)


# --------------------------------------------------------------------------- checklist helpers

def checklist_items(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a checklist, in document order."""
    from checklists import iter_items

    return [item for _section, item in iter_items(content)]


def _item_index(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in checklist_items(content)}


def _min_photos(item: dict[str, Any]) -> int:
    evidence = item.get("evidence") or {}
    if isinstance(evidence, dict):
        return int(evidence.get("min_photos") or 0)
    return 0


def _deduction_codes(item: dict[str, Any]) -> set[str]:
    return {str(d.get("code")) for d in item.get("deductions") or [] if isinstance(d, dict)}


def _na_allowed(item: dict[str, Any], kind: str | None) -> bool:
    from checklists import applies_to

    return bool(item.get("na_allowed", False)) or not applies_to(item, kind)


def _applies(item: dict[str, Any], kind: str | None) -> bool:
    from checklists import applies_to

    return applies_to(item, kind)


# --------------------------------------------------------------------------- scoping

def _oid(value: str) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def inspector_id_of(user) -> str | None:
    """The directory inspector id of an inspector user."""
    if getattr(user, "inspector_id", None):
        return user.inspector_id
    try:
        inspector = _directory().inspector_for_user(user)
    except Exception:  # noqa: BLE001 - no directory link means "not an inspector"
        return None
    return str(inspector.id) if inspector is not None else None


def _not_found() -> NotFound:
    return NotFound("检查任务不存在", code="ASSIGNMENT_NOT_FOUND")


def assignment_for(user, assignment_id: str) -> Assignment:
    """The assignment if ``user`` may see it (office of the region, inspector of the team), else 404."""
    oid = _oid(assignment_id)
    assignment = Assignment.objects(id=oid).first() if oid else None
    if assignment is None:
        raise _not_found()
    if user.role == "office_admin" and in_scope(user.region, assignment.region):
        return assignment
    if user.role == "inspector" and inspector_id_of(user) in (assignment.team or []):
        return assignment
    raise _not_found()


def _cancelled() -> Conflict:
    return Conflict("检查任务已取消（抽查计划或抽取已取消），不能再签到、填写或提交", code="ASSIGNMENT_CANCELLED",
                    details={"status": "cancelled"})


def _team_assignment(user, assignment_id: str) -> tuple[Assignment, str]:
    """For writes: the caller must be an inspector on the team (others: 404; non-inspectors: 403),
    and the assignment must not be cancelled (409 ``ASSIGNMENT_CANCELLED``)."""
    if user.role != "inspector":
        raise Forbidden("只有检查组成员可以填写检查记录", code="ROLE_FORBIDDEN")
    assignment = assignment_for(user, assignment_id)
    if assignment.status == "cancelled":
        raise _cancelled()
    return assignment, inspector_id_of(user)


# --------------------------------------------------------------------------- assignments

def create_assignment(*, institution_id: str, region: str, team: list[str], source: str, checklist_code: str,
                      now: datetime, dedupe_key: str, matters: list[str] | None = None,
                      checklist_version: int | None = None, reason: str | None = None,
                      reason_note: str | None = None, plan_id: str | None = None, draw_id: str | None = None,
                      parent_order_id: str | None = None, due_date: date | None = None,
                      created_by: str | None = None) -> Assignment:
    """Create an assignment once per ``dedupe_key`` (a retry returns the first one).

    Draws use ``draw:<draw id>:<institution id>``; targeted inspections a key
    of their own (e.g. ``reinspection:<order id>`` or the client's UUID).
    """
    if len(team) < 2:
        raise Unprocessable("检查组至少需要两名执法人员", code="TEAM_TOO_SMALL")
    if len(set(team)) != len(team):
        raise Unprocessable("检查组成员重复", code="TEAM_DUPLICATE_MEMBER")
    if source == "targeted" and reason not in TARGETED_REASONS:
        raise Unprocessable("非随机检查须注明原因", code="TARGETED_REASON_REQUIRED")
    existing = Assignment.objects(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    assignment = Assignment(
        institution_id=institution_id, region=region, team=list(team), source=source, random=source == "draw",
        reason=reason, reason_note=reason_note, plan_id=plan_id, draw_id=draw_id, parent_order_id=parent_order_id,
        matters=list(matters or []), checklist_code=checklist_code, checklist_version=checklist_version,
        due_date=due_date, status="assigned", created_by=created_by, created_at=now, updated_at=now,
        dedupe_key=dedupe_key)
    try:
        assignment.save(force_insert=True)
    except NotUniqueError:
        return Assignment.objects.get(dedupe_key=dedupe_key)
    return assignment


def _started(assignment: Assignment, inspection: Inspection | None) -> Conflict:
    state = inspection.state if inspection is not None else None
    return Conflict("检查已开始（已签到或已提交），不能再调整检查组", code="INSPECTION_ALREADY_STARTED",
                    details={"assignment_id": str(assignment.id), "status": assignment.status,
                             "inspection_state": state})


def _replaceable(assignment: Assignment) -> Inspection | None:
    """The inspection of an assignment whose team may still change (not started, not cancelled), else 409."""
    inspection = Inspection.objects(id=assignment.id).first()
    if assignment.status == "cancelled":
        raise _cancelled()
    if assignment.status != "assigned" or (inspection is not None and (
            inspection.state != "assigned" or inspection.submission_started_at is not None)):
        raise _started(assignment, inspection)
    return inspection


def check_team_replaceable(assignment_id: str) -> None:
    """409 ``INSPECTION_ALREADY_STARTED`` (or ``ASSIGNMENT_CANCELLED``) unless the team may still change."""
    _replaceable(Assignment.objects.get(id=assignment_id))


def replace_team_member(assignment_id: str, old_inspector_id: str, new_inspector_id: str, *, now: datetime) -> None:
    """Swap one member (draw amendment) in the assignment and its inspection; the position (lead first) is kept.

    Only before the inspection starts: once it is checked in or submitted the
    team has been on site and signs the record, so a change is refused with
    409 ``INSPECTION_ALREADY_STARTED`` and nothing changes.  Both updates are
    conditional on the unstarted state; if a check-in slips in between them,
    the assignment's team is put back and the same 409 is raised.  409
    ``TEAM_CHANGED`` when ``old_inspector_id`` is no longer on the team.
    """
    assignment = Assignment.objects.get(id=assignment_id)
    _replaceable(assignment)
    before = list(assignment.team)
    team = [new_inspector_id if x == old_inspector_id else x for x in before]
    if not Assignment.objects(id=assignment.id, status="assigned", team=old_inspector_id).update_one(
            set__team=team, set__updated_at=now):
        assignment.reload()
        _replaceable(assignment)
        raise Conflict("检查组已被他人调整，请刷新后重试", code="TEAM_CHANGED")
    inspection = Inspection.objects(id=assignment.id).first()
    if inspection is not None and not Inspection.objects(
            id=assignment.id, state="assigned", submission_started_at=None, team=old_inspector_id).update_one(
            set__team=team, set__updated_at=now):
        Assignment.objects(id=assignment.id, team=team).update_one(set__team=before, set__updated_at=now)
        assignment.reload()
        raise _started(assignment, Inspection.objects(id=assignment.id).first())


def assignments_for_draw(draw_id: str):
    return Assignment.objects(draw_id=draw_id).order_by("created_at")


def default_checklist_code(institution_kind: str | None) -> str:
    """DB37/T 4087 (community) for community stations, DB37/T 4086 (institutional) otherwise."""
    return COMMUNITY_CHECKLIST if institution_kind == "community_station" else INSTITUTION_CHECKLIST


def create_targeted(user, body: dict[str, Any], *, now: datetime) -> Assignment:
    """An office's targeted (专项, non-random) inspection of an institution in its region."""
    directory = _directory()
    institution = directory.get_institution(body["institution_id"])
    if institution is None or not in_scope(user.region, institution.region):
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    problems = []
    for inspector_id in body["team"]:
        inspector = directory.get_inspector(inspector_id)
        if inspector is None or not in_scope(user.region, inspector.region):
            problems.append({"inspector_id": inspector_id, "problem": "not_found"})
        elif not inspector.active:
            problems.append({"inspector_id": inspector_id, "problem": "inactive"})
    if problems:
        raise Unprocessable("检查组成员无效", code="TEAM_MEMBER_INVALID", details={"problems": problems})
    conflicted = _conflicted(body["team"], str(institution.id), now)
    if conflicted:
        raise Unprocessable("检查组成员与该机构存在利害关系，应当回避", code="TEAM_MEMBER_CONFLICT",
                            details={"inspector_ids": conflicted})
    code = body.get("checklist_code") or default_checklist_code(institution.kind)
    version = body.get("checklist_version")
    if checklist_version(code, version) is None:
        raise Unprocessable("检查表不存在或未发布", code="CHECKLIST_NOT_FOUND",
                            details={"checklist_code": code, "checklist_version": version})
    assignment = create_assignment(
        institution_id=str(institution.id), region=institution.region, team=list(body["team"]), source="targeted",
        checklist_code=code, checklist_version=version, now=now,
        dedupe_key=f"targeted:{user.id}:{body['client_id']}", matters=body.get("matters"), reason=body["reason"],
        reason_note=body.get("reason_note"), due_date=body.get("due_date"), created_by=str(user.id))
    if assignment.created_at == now or as_utc(assignment.created_at) == as_utc(now):
        audit.record("assignment.created", actor=actor_of(user), target_type="assignment",
                     target_id=str(assignment.id), region=assignment.region,
                     data={"source": "targeted", "reason": assignment.reason, "institution_id": assignment.institution_id,
                           "team": assignment.team}, now=now)
    return assignment


def _conflicted(team: list[str], institution_id: str, now: datetime) -> list[str]:
    pairs = _directory().conflict_pairs(inspector_ids=team, institution_ids=[institution_id],
                                        on=now.astimezone(SHANGHAI).date())
    return [i for i in team if (i, institution_id) in pairs]


def my_assignments(user, *, status: str | None = None, date_from: date | None = None,
                   date_to: date | None = None):
    """An inspector's own assignments, newest first (filter by status and due-date range)."""
    inspector_id = inspector_id_of(user)
    if inspector_id is None:
        return Assignment.objects(id=None)
    query = Assignment.objects(team=inspector_id)
    if status:
        query = query.filter(status=status)
    if date_from:
        query = query.filter(due_date__gte=date_from)
    if date_to:
        query = query.filter(due_date__lte=date_to)
    return query.order_by("-created_at", "-id").hint([("team", 1), ("created_at", -1), ("_id", -1)])


def region_assignments(user, *, status: str | None = None, source: str | None = None,
                       institution_id: str | None = None):
    """Assignments of the office's region subtree, newest first."""
    query = Assignment.objects(__raw__={"region": region_range(user.region)})
    if status:
        query = query.filter(status=status)
    if source:
        query = query.filter(source=source)
    if institution_id:
        query = query.filter(institution_id=institution_id)
    return query.order_by("-created_at", "-id").hint([("created_at", -1), ("_id", -1), ("region", 1)])


def fix_checklist_version(assignment: Assignment, *, now: datetime) -> Assignment:
    """Pin the checklist version at first bundle build (atomic: the first writer wins)."""
    if assignment.checklist_version:
        return assignment
    latest = checklist_version(assignment.checklist_code)
    if latest is None:
        raise Unprocessable("检查表不存在或未发布", code="CHECKLIST_NOT_FOUND",
                            details={"checklist_code": assignment.checklist_code})
    Assignment.objects(id=assignment.id, checklist_version=None).update_one(
        set__checklist_version=latest["version"], set__updated_at=now)
    assignment.reload()
    return assignment


# --------------------------------------------------------------------------- inspection documents

def _code_prefix(region: str) -> str:
    return CITY_PREFIXES.get(region[:4], "JC")


def next_code(region: str, now: datetime) -> str:
    """A short human code, e.g. ``ZB-2026-000123`` (prefix by city, year in Asia/Shanghai)."""
    key = f"{_code_prefix(region)}-{now.astimezone(SHANGHAI).year}"
    seq = db.next_in_sequence(InspectionCounter._meta["collection"], key,
                              taken=lambda n: Inspection.objects(code=f"{key}-{n:06d}").limit(1).count(True) > 0)
    return f"{key}-{seq:06d}"


def ensure_inspection(assignment: Assignment, *, now: datetime) -> Inspection:
    """The inspection of an assignment, created once (its id is the assignment's id)."""
    existing = Inspection.objects(id=assignment.id).first()
    if existing is not None:
        return existing
    assignment = fix_checklist_version(assignment, now=now)
    version = checklist_version(assignment.checklist_code, assignment.checklist_version)
    inspection = Inspection(
        id=assignment.id, code=next_code(assignment.region, now), institution_id=assignment.institution_id,
        region=assignment.region, team=list(assignment.team), checklist_code=assignment.checklist_code,
        checklist_version=assignment.checklist_version, content_hash=(version or {}).get("content_hash"),
        state="assigned", created_at=now, updated_at=now)
    try:
        inspection.save(force_insert=True)
    except NotUniqueError:
        return Inspection.objects.get(id=assignment.id)
    return inspection


def inspection_for(user, inspection_id: str, *, now: datetime) -> Inspection:
    """Read access: office of the region or inspector of the team (404 otherwise).

    A team member's first read starts the inspection (as the bundle does); an
    office only looks: for an unstarted assignment it gets an unsaved view, so
    reading creates nothing and uses up no inspection code.  The same holds for
    a cancelled assignment, whatever the reader.
    """
    assignment = assignment_for(user, inspection_id)
    existing = Inspection.objects(id=assignment.id).first()
    if existing is not None:
        return existing
    if getattr(user, "role", None) != "inspector" or assignment.status == "cancelled":
        return Inspection(id=assignment.id, code="", institution_id=assignment.institution_id,
                          region=assignment.region, team=list(assignment.team),
                          checklist_code=assignment.checklist_code,
                          checklist_version=assignment.checklist_version or 0, state="assigned",
                          created_at=now, updated_at=now)
    return ensure_inspection(assignment, now=now)


def _content_of(inspection: Inspection) -> dict[str, Any]:
    version = checklist_version(inspection.checklist_code, inspection.checklist_version)
    if version is None:
        raise Unprocessable("检查表版本不存在", code="CHECKLIST_NOT_FOUND")
    return version["content"]


def _writable(inspection: Inspection) -> None:
    if inspection.state == "submitted" or inspection.submission_started_at is not None:
        raise Conflict("检查已提交并锁定，只能通过更正记录修改", code="INSPECTION_LOCKED",
                       details={"state": inspection.state})
    if inspection.state != "checked_in":
        raise Conflict("尚未签到：请先扫描机构二维码签到", code="NOT_CHECKED_IN", details={"state": inspection.state})


# --------------------------------------------------------------------------- bundle

def _institution_view(institution) -> dict[str, Any]:
    lon, lat = _lonlat(institution)
    from inspect_api.directory.models import INSTITUTION_KINDS

    return {"id": str(institution.id), "public_id": institution.public_id, "name": institution.name,
            "kind": institution.kind, "kind_name": INSTITUTION_KINDS.get(institution.kind, institution.kind),
            "region": institution.region, "address": institution.address,
            "latitude": lat, "longitude": lon, "contact_name": institution.contact_name,
            "contact_phone": institution.contact_phone}


def _lonlat(institution) -> tuple[float | None, float | None]:
    loc = getattr(institution, "location", None)
    if not loc:
        return None, None
    coords = loc.get("coordinates") if isinstance(loc, dict) else loc
    if not coords or len(coords) < 2:
        return None, None
    return float(coords[0]), float(coords[1])


def team_view(team: list[str]) -> list[dict[str, Any]]:
    """The team, lead first, with names, certificate numbers and departments (one directory query)."""
    inspectors = _directory().inspectors_by_id(team)
    out = []
    for position, inspector_id in enumerate(team):
        inspector = inspectors.get(inspector_id)
        out.append({"inspector_id": inspector_id, "role": "lead" if position == 0 else "member",
                    "name": inspector.name if inspector else None,
                    "certificate_no": inspector.certificate_no if inspector else None,
                    "department": inspector.department if inspector else None})
    return out


def previous_result(institution_id: str, exclude_id) -> dict[str, Any] | None:
    previous = (Inspection.objects(institution_id=institution_id, state="submitted", id__ne=exclude_id)
                .order_by("-submitted_at").first())
    if previous is None:
        return None
    return {"inspection_id": str(previous.id), "code": previous.code, "submitted_at": isoformat(previous.submitted_at),
            "score": (previous.result or {}).get("score"), "grade": (previous.result or {}).get("grade"),
            "grade_name": (previous.result or {}).get("grade_name"), "findings": len(previous.findings or []),
            "order_id": previous.order_id}


def _open_findings(institution_id: str, region: str) -> list[dict[str, Any]]:
    """Unresolved findings of the institution's open rectification orders (any team's), for the bundle.

    Read through ``rectification.service.list_orders`` / ``findings_of`` with the
    scope of the institution's own region: the caller already holds the
    assignment, which entitles it to the institution's open findings.
    """
    from types import SimpleNamespace

    scope = SimpleNamespace(role="office_admin", region=region)
    out = []
    for order in _rectification("list_orders")(scope, status="open", institution_id=institution_id).limit(20):
        for f in _rectification("findings_of")(order):
            if f.status in ("accepted", "withdrawn"):
                continue
            out.append({"order_id": str(order.id), "order_number": order.number, "finding_id": str(f.id),
                        "item_id": f.item_id, "item_text": f.item_text, "severity": f.severity, "status": f.status,
                        "deadline": f.deadline.isoformat() if f.deadline else None,
                        "reinspection_required": bool(f.reinspection_required),
                        "photos": [{"id": pid, "thumb_url": f"/api/v1/photos/{pid}/thumb"}
                                   for pid in f.photo_ids or []]})
    return out


def bundle(user, assignment_id: str, *, now: datetime, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the phone needs offline for one assignment (the checklist version is pinned here).

    A cancelled assignment still answers (``assignment.status`` says
    ``cancelled``) so that a phone holding it learns why its writes are refused.
    """
    config = config or {}
    assignment = assignment_for(user, assignment_id)
    assignment = fix_checklist_version(assignment, now=now)
    if assignment.status == "cancelled":  # still readable (shows the status); starts nothing
        inspection = inspection_for(user, assignment_id, now=now)
    else:
        inspection = ensure_inspection(assignment, now=now)
    institution = _directory().get_institution(assignment.institution_id)
    if institution is None:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    version = checklist_version(assignment.checklist_code, assignment.checklist_version)
    if version is None:
        raise Unprocessable("检查表版本不存在", code="CHECKLIST_NOT_FOUND")
    lon, lat = _lonlat(institution)
    return {
        "assignment": {**assignment_view(assignment), "institution_name": institution.name},
        "inspection": {"id": str(inspection.id), "code": inspection.code, "state": inspection.state},
        "institution": _institution_view(institution),
        "team": team_view(assignment.team),
        "checklist": {"code": version["code"], "version": version["version"],
                      "content_hash": version["content_hash"], "content": version["content"]},
        "previous_result": previous_result(assignment.institution_id, assignment.id),
        "open_findings": _open_findings(assignment.institution_id, assignment.region),
        "checkin_rules": {"qr_required": True, "radius_m": float(config.get("checkin_radius_m", DEFAULT_RADIUS_M)),
                          "latitude": lat, "longitude": lon,
                          "note": "扫描机构门口张贴的二维码并上报定位；超出半径的签到会被标记"},
        "signature_roles": [{"role": k, "name": v} for k, v in SIGNER_ROLES.items()],
    }


def bundle_etag(data: dict[str, Any]) -> str:
    """A strong validator of a bundle; the checklist counts by its content hash (it is most of the bytes)."""
    checklist = data.get("checklist") or {}
    data = {**data, "checklist": {k: v for k, v in checklist.items() if k != "content"}}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'


def assignment_view(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": str(assignment.id), "institution_id": assignment.institution_id, "region": assignment.region,
        "team": list(assignment.team), "source": assignment.source, "random": assignment.random,
        "reason": assignment.reason, "reason_note": assignment.reason_note, "plan_id": assignment.plan_id,
        "draw_id": assignment.draw_id, "parent_order_id": assignment.parent_order_id,
        "matters": list(assignment.matters or []), "checklist_code": assignment.checklist_code,
        "checklist_version": assignment.checklist_version,
        "due_date": assignment.due_date.isoformat() if assignment.due_date else None,
        "status": assignment.status, "created_at": isoformat(assignment.created_at),
    }


# --------------------------------------------------------------------------- check-in

EARTH_RADIUS_M = 6371008.8
MAX_FIX_AGE_S = 12 * 3600  # an offline phone syncs later, but the fix must belong to the visit
MAX_FIX_AHEAD_S = 600


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_in(user, inspection_id: str, body: dict[str, Any], *, now: datetime,
             radius_m: float = DEFAULT_RADIUS_M) -> Inspection:
    """Verify the scanned QR token server-side, store the GPS fix and distance; flag beyond ``radius_m``.

    Idempotent: once checked in, a repeat returns the stored check-in.
    """
    assignment, inspector_id = _team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspection.state == "submitted":
        raise Conflict("检查已提交并锁定", code="INSPECTION_LOCKED")
    directory = _directory()
    institution = directory.verify_checkin_token(directory.token_from_payload(body["qr_token"]))
    if str(institution.id) != assignment.institution_id:
        raise Unprocessable("二维码不属于本次检查的机构", code="CHECKIN_WRONG_INSTITUTION")
    if inspection.checkin is not None:
        return inspection
    return record_checkin(user, assignment, inspection, institution, inspector_id=inspector_id,
                          client_id=str(body["client_id"]), latitude=body["latitude"], longitude=body["longitude"],
                          accuracy_m=body.get("accuracy_m"), captured_at=body["captured_at"], now=now,
                          radius_m=radius_m)


def record_checkin(user, assignment: Assignment, inspection: Inspection, institution, *, inspector_id: str,
                   client_id: str, latitude: float, longitude: float, accuracy_m: float | None,
                   captured_at: datetime, now: datetime, radius_m: float = DEFAULT_RADIUS_M) -> Inspection:
    """Store a check-in whose QR token the caller has already verified (``check_in``; the demo seeder)."""
    lon, lat = _lonlat(institution)
    distance = None if lat is None else round(haversine_m(latitude, longitude, lat, lon), 1)
    reasons = []
    if distance is None:
        reasons.append("institution_location_unknown")
    elif distance > radius_m:
        reasons.append("beyond_radius")
    if accuracy_m is not None and accuracy_m > radius_m:
        reasons.append("low_accuracy")
    fix_age = (as_utc(now) - as_utc(captured_at)).total_seconds()
    if fix_age > MAX_FIX_AGE_S or fix_age < -MAX_FIX_AHEAD_S:
        reasons.append("fix_time_implausible")  # a GPS fix from long before (or after) the check-in
    checkin = CheckIn(inspector_id=inspector_id, client_id=client_id,
                      qr_version=int(getattr(institution, "qr_version", 1) or 1), latitude=latitude,
                      longitude=longitude, accuracy_m=accuracy_m, captured_at=captured_at,
                      received_at=now, distance_m=distance, radius_m=float(radius_m), flagged=bool(reasons),
                      flag_reasons=reasons)
    # The assignment first: a cancellation only takes "assigned" assignments, so
    # once this flip is done the visit can no longer be cancelled under it.
    if not Assignment.objects(id=assignment.id, status__in=("assigned", "in_progress")).update_one(
            set__status="in_progress", set__updated_at=now):
        raise _cancelled()
    updated = Inspection.objects(id=inspection.id, state="assigned").update_one(
        set__state="checked_in", set__checkin=checkin, set__updated_at=now)
    inspection.reload()
    if updated:
        audit.record("inspection.checked_in", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"distance_m": distance, "flagged": bool(reasons), "flag_reasons": reasons,
                           "qr_version": checkin.qr_version}, now=now)
    return inspection


# --------------------------------------------------------------------------- responses

def response_view(resp: ItemResponse | None) -> dict[str, Any] | None:
    if resp is None:
        return None
    return {"item_id": resp.item_id, "revision": resp.revision, "result": resp.result,
            "deduction_codes": list(resp.deduction_codes or []), "note": resp.note, "client_id": resp.client_id,
            "client_updated_at": isoformat(resp.client_updated_at), "updated_by": resp.updated_by,
            "updated_at": isoformat(resp.updated_at)}


def current_responses(inspection_id) -> dict[str, ItemResponse]:
    return {r.item_id: r for r in ItemResponse.objects(inspection_id=str(inspection_id))}


def _validate_answer(item: dict[str, Any] | None, item_id: str, result: str, codes: list[str],
                     kind: str | None) -> dict[str, Any] | None:
    if item is None:
        return {"item_id": item_id, "code": "UNKNOWN_ITEM", "message": "检查表中没有该项目"}
    unknown = sorted(set(codes) - _deduction_codes(item))
    if unknown:
        return {"item_id": item_id, "code": "UNKNOWN_DEDUCTION", "message": "扣分代码不属于该项目",
                "deduction_codes": unknown}
    repeatable = {str(d.get("code")) for d in item.get("deductions") or [] if d.get("repeatable")}
    repeated = sorted({c for c in codes if codes.count(c) > 1 and c not in repeatable})
    if repeated:
        return {"item_id": item_id, "code": "DUPLICATE_DEDUCTION", "message": "该扣分项不可重复选择",
                "deduction_codes": repeated}
    if not _applies(item, kind) and result != "na":
        return {"item_id": item_id, "code": "NOT_APPLICABLE_TO_KIND", "message": "该项目不适用于本机构类型，只能标记为不适用"}
    if result == "deduct" and not codes:
        return {"item_id": item_id, "code": "DEDUCTION_REQUIRED", "message": "扣分须选择扣分项"}
    if result in ("pass", "na") and codes:
        return {"item_id": item_id, "code": "DEDUCTION_NOT_ALLOWED", "message": "符合或不适用的项目不能选择扣分项"}
    if result == "na" and not _na_allowed(item, kind):
        return {"item_id": item_id, "code": "NA_NOT_ALLOWED", "message": "该项目不能选择不适用"}
    return None


def sync_responses(user, inspection_id: str, items: list[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    """Apply a batch of item responses; per-item outcome applied / duplicate / conflict.

    The whole batch is validated first (unknown items or deduction codes → 422,
    nothing stored).  Each write is an atomic conditional update on the item's
    revision: ``base_revision`` 0 inserts (unique index), otherwise the update
    matches only the current revision — two concurrent edits cannot both win.
    """
    assignment, inspector_id = _team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    _writable(inspection)
    index = _item_index(_content_of(inspection))
    kind = _institution_kind(inspection.institution_id)
    problems = []
    for entry in items:
        problem = _validate_answer(index.get(entry["item_id"]), entry["item_id"], entry["result"],
                                   list(entry.get("deduction_codes") or []), kind)
        if problem:
            problems.append(problem)
    if problems:
        raise Unprocessable("部分检查项目的答案无效，整批未保存", code="RESPONSES_INVALID",
                            details={"problems": problems})
    ins_id = str(inspection.id)
    outcomes = []
    counts = {"applied": 0, "duplicate": 0, "conflict": 0}
    for entry in items:
        client_id = str(entry["client_id"])
        item_id = entry["item_id"]
        seen = ResponseWrite.objects(inspection_id=ins_id, client_id=client_id).first()
        if seen is not None:
            outcome = {"outcome": "duplicate", "revision": seen.revision}
        else:
            outcome = _apply(ins_id, entry, inspector_id, now)
        outcome.update({"client_id": client_id, "item_id": item_id,
                        "current": response_view(ItemResponse.objects(inspection_id=ins_id, item_id=item_id).first())})
        counts[outcome["outcome"]] += 1
        outcomes.append(outcome)
    if counts["applied"]:
        Inspection.objects(id=inspection.id).update_one(set__updated_at=now)
        audit.record("inspection.responses_synced", actor=actor_of(user), target_type="inspection",
                     target_id=ins_id, region=inspection.region, data=counts, now=now)
    return {"outcomes": outcomes, **counts}


def _apply(ins_id: str, entry: dict[str, Any], inspector_id: str, now: datetime) -> dict[str, Any]:
    client_id = str(entry["client_id"])
    base = int(entry["base_revision"])
    fields = {"result": entry["result"], "deduction_codes": list(entry.get("deduction_codes") or []),
              "note": entry.get("note"), "client_id": client_id, "client_updated_at": entry.get("client_updated_at"),
              "updated_by": inspector_id, "updated_at": now}
    applied = False
    if base == 0:
        try:
            ItemResponse(inspection_id=ins_id, item_id=entry["item_id"], revision=1, **fields).save(force_insert=True)
            applied = True
        except NotUniqueError:
            applied = False
    else:
        applied = bool(ItemResponse.objects(inspection_id=ins_id, item_id=entry["item_id"], revision=base).update_one(
            inc__revision=1, **{f"set__{k}": v for k, v in fields.items()}))
    if applied:
        revision = base + 1
        try:
            ResponseWrite(inspection_id=ins_id, client_id=client_id, item_id=entry["item_id"], revision=revision,
                          at=now).save(force_insert=True)
        except NotUniqueError:  # the same client write raced itself: the first one is the answer
            seen = ResponseWrite.objects.get(inspection_id=ins_id, client_id=client_id)
            return {"outcome": "duplicate", "revision": seen.revision}
        return {"outcome": "applied", "revision": revision}
    current = ItemResponse.objects(inspection_id=ins_id, item_id=entry["item_id"]).first()
    if current is not None and current.client_id == client_id:  # applied before a crash lost the write record
        return {"outcome": "duplicate", "revision": current.revision}
    return {"outcome": "conflict", "revision": current.revision if current else 0}


def _institution_kind(institution_id: str) -> str | None:
    institution = _directory().get_institution(institution_id)
    return institution.kind if institution is not None else None


# --------------------------------------------------------------------------- photos and signatures

def _evidence():
    from inspect_api.evidence import service as evidence

    return evidence


def _checkin_position(inspection: Inspection) -> tuple[float, float] | None:
    checkin = inspection.checkin
    if checkin is None or checkin.latitude is None or checkin.longitude is None:
        return None
    return float(checkin.latitude), float(checkin.longitude)


def add_photo(user, inspection_id: str, data: bytes, *, item_id: str, client_id: str, now: datetime,
              config: dict[str, Any] | None = None):
    """Store one photo for an item (idempotent by ``client_id``); refused before check-in and after submission.

    The display image's watermark falls back to the check-in position (and the
    upload time) when the photo carries no EXIF GPS (or capture time).
    """
    assignment, inspector_id = _team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    _writable(inspection)
    if item_id not in _item_index(_content_of(inspection)):
        raise Unprocessable("检查表中没有该项目", code="UNKNOWN_ITEM", details={"item_id": item_id})
    evidence = _evidence()
    known = evidence.for_owner("inspection", str(inspection.id)).filter(client_id=client_id).first()
    photo = evidence.store_photo(data, owner_type="inspection", owner_id=str(inspection.id),
                                 institution_id=inspection.institution_id, region=inspection.region,
                                 label=inspection.code, client_id=client_id, uploaded_by=str(user.id),
                                 item_id=item_id, now=now, team=list(inspection.team), config=config,
                                 fallback_gps=_checkin_position(inspection))
    from inspect_api.inspections import photo_positions

    photo = photo_positions.record(photo, inspection.institution_id, config)  # beyond the radius: flagged
    if known is None:
        audit.record("inspection.photo_added", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"evidence_id": str(photo.id), "item_id": item_id, "sha256": photo.sha256,
                           "reused": bool(photo.reused), "distance_m": photo.distance_m,
                           "position_flags": list(photo.position_flags or [])}, now=now)
    return photo


# --------------------------------------------------------------------------- submission

def missing_for_submission(inspection: Inspection, content: dict[str, Any]) -> dict[str, Any]:
    """What still blocks submission: unanswered items, photos the evidence rule needs, signatures.

    Every item applicable to the institution's kind needs an answer; an item
    answered ``deduct`` or ``fail`` (a finding) needs at least its
    ``evidence.min_photos`` photos; each team member and the institution's
    representative must have signed.
    """
    responses = current_responses(inspection.id)
    photos: dict[str, int] = {}
    for photo in _evidence().for_owner("inspection", str(inspection.id), kind="photo"):
        photos[photo.item_id] = photos.get(photo.item_id, 0) + 1
    unanswered, need_photos = [], []
    kind = _institution_kind(inspection.institution_id)
    for item in checklist_items(content):
        item_id = str(item["id"])
        resp = responses.get(item_id)
        if resp is None:
            if not _applies(item, kind):
                continue
            unanswered.append(item_id)
            continue
        needed = _min_photos(item)
        if needed and resp.result in ("deduct", "fail") and photos.get(item_id, 0) < needed:
            need_photos.append({"item_id": item_id, "required": needed, "uploaded": photos.get(item_id, 0)})
    signed_inspectors = {s.inspector_id for s in inspection.signatures if s.signer_role in ("lead", "member")}
    missing_signatures = [{"role": "lead" if i == 0 else "member", "inspector_id": x}
                          for i, x in enumerate(inspection.team) if x not in signed_inspectors]
    if not any(s.signer_role == "institution_representative" for s in inspection.signatures):
        missing_signatures.append({"role": "institution_representative", "inspector_id": None})
    out = {}
    if unanswered:
        out["unanswered_items"] = unanswered
    if need_photos:
        out["photos_required"] = need_photos
    if missing_signatures:
        out["signatures"] = missing_signatures
    return out


def _responses_for_scoring(inspection_id) -> dict[str, dict[str, Any]]:
    return {item_id: {"result": r.result, "deductions": list(r.deduction_codes or []), "note": r.note}
            for item_id, r in current_responses(inspection_id).items()}


def _score_inspection(inspection: Inspection, content: dict[str, Any], config: dict[str, Any]) -> tuple[dict, list]:
    """Score with the checklists engine; return (result dict, findings as the dicts ``open_order`` takes)."""
    from checklists.errors import ScoringError

    kind = _institution_kind(inspection.institution_id)
    try:
        scored = _score(content, _responses_for_scoring(inspection.id), kind)
    except ScoringError as exc:
        raise Unprocessable("检查记录无法评分", code="SCORING_FAILED", details={"problems": exc.problems}) from exc
    index = _item_index(content)
    responses = current_responses(inspection.id)
    photos: dict[str, list[str]] = {}
    for photo in _evidence().for_owner("inspection", str(inspection.id), kind="photo"):
        photos.setdefault(photo.item_id, []).append(str(photo.id))
    findings = []
    for f in scored.findings:
        item = index.get(f.item_id, {})
        resp = responses.get(f.item_id)
        findings.append({
            "item_id": f.item_id, "item_text": f.item_text, "clause": item.get("clause"),
            "section_id": f.section_id, "result": f.result, "severity": f.severity, "veto": f.veto,
            "deductions": [{"code": d.code, "text": d.text, "points": float(d.points * d.count), "count": d.count}
                           for d in f.deductions],
            "points_lost": float(f.points_lost), "item_points": float(f.item_points),
            "deadline_working_days": int(f.deadline_working_days), "reinspection_required": bool(f.reinspection),
            "note": resp.note if resp else None, "photo_ids": photos.get(f.item_id, []),
        })
    result = {"score": float(scored.score), "grade": scored.grade, "grade_name": scored.grade_name,
              "earned": float(scored.earned), "applicable_max": float(scored.applicable_max),
              "veto_failed": list(scored.veto_failed), "not_applicable": list(scored.not_applicable),
              "kind": kind}
    return result, findings


_SUBMITTED_HOOKS: list[Callable[[Inspection, datetime], None]] = []
_CORRECTED_HOOKS: list[Callable[[Inspection, datetime], None]] = []


def register_submitted_hook(hook: Callable[[Inspection, datetime], None]) -> None:
    """Other modules act on a submission (e.g. publication starts its 20-working-day clock).
    Hooks must be idempotent: a replayed submission calls them again."""
    if hook not in _SUBMITTED_HOOKS:
        _SUBMITTED_HOOKS.append(hook)


def register_corrected_hook(hook: Callable[[Inspection, datetime], None]) -> None:
    """Other modules act on a correction of a submitted inspection (e.g. publication refreshes the result).
    Hooks must be idempotent: a replayed correction calls them again."""
    if hook not in _CORRECTED_HOOKS:
        _CORRECTED_HOOKS.append(hook)


def submit(user, inspection_id: str, *, now: datetime, config: dict[str, Any] | None = None) -> Inspection:
    """Lead only, idempotent and resumable; refuses with the list of what is missing."""
    config = config or {}
    assignment, inspector_id = _team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspector_id != inspection.team[0]:
        raise Forbidden("只有检查组组长可以提交检查", code="NOT_TEAM_LEAD")
    if inspection.state == "submitted":
        return inspection  # replay: the first result
    if inspection.state != "checked_in":
        raise Conflict("尚未签到：请先扫描机构二维码签到", code="NOT_CHECKED_IN")
    content = _content_of(inspection)
    if inspection.submission_started_at is None:
        missing = missing_for_submission(inspection, content)
        if missing:
            raise Unprocessable("检查记录不完整，不能提交", code="SUBMISSION_INCOMPLETE", details={"missing": missing})
        result, findings = _score_inspection(inspection, content, config)  # before locking: a refusal stores nothing
        Inspection.objects(id=inspection.id, submission_started_at=None).update_one(
            set__submission_started_at=now, set__submitted_by=str(user.id))
        inspection.reload()
    # Step: score and freeze findings (deterministic: responses are locked now).
    result, findings = _score_inspection(inspection, content, config)
    concluded_at = inspection.submission_started_at
    Inspection.objects(id=inspection.id).update_one(set__result=result, set__findings=findings)
    # Step: the rectification order (idempotent by inspection id: a resume gets the first order back).
    order_id, order_summary = inspection.order_id, None
    if findings:
        order = _open_order(inspection_id=str(inspection.id), institution_id=inspection.institution_id,
                            region=inspection.region, lead_inspector_id=inspection.team[0],
                            team=list(inspection.team), checklist_code=inspection.checklist_code,
                            findings=[_order_finding(f) for f in findings], concluded_at=concluded_at, now=now)
        if order is not None:
            order_id = str(order.id)
            order_summary = _order_summary(order)
            Inspection.objects(id=inspection.id).update_one(set__order_id=order_id)
    # Step: risk profile of the institution (once).
    # Claimed first by an atomic flag, so two concurrent submits cannot both count the findings.
    if Inspection.objects(id=inspection.id, risk_recorded=False).update_one(set__risk_recorded=True):
        _directory().record_risk_event(inspection.institution_id, past_findings=len(findings),
                                       inspected_at=concluded_at, now=now)
    inspection.reload()
    # Step: freeze the report and its hash.
    report = build_report(inspection, order_summary)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))
    Assignment.objects(id=assignment.id).update_one(set__status="submitted", set__updated_at=now)
    # Last: the state flip.
    flipped = Inspection.objects(id=inspection.id, state="checked_in").update_one(
        set__state="submitted", set__submitted_at=concluded_at, set__updated_at=now)
    inspection.reload()
    if flipped:
        audit.record("inspection.submitted", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"score": result["score"], "grade": result["grade"], "findings": len(findings),
                           "order_id": order_id, "report_hash": inspection.report_hash}, now=now)
    for hook in _SUBMITTED_HOOKS:
        hook(inspection, now)
    return inspection


def _order_finding(finding: dict[str, Any]) -> dict[str, Any]:
    keys = ("item_id", "item_text", "clause", "severity", "deductions", "points_lost", "deadline_working_days",
            "reinspection_required", "note", "photo_ids")
    out = {k: finding.get(k) for k in keys}
    out["deductions"] = [{"code": d["code"], "text": d["text"], "points": d["points"]} for d in finding["deductions"]]
    return out


# --------------------------------------------------------------------------- report

def content_hash(report: dict[str, Any]) -> str:
    canonical = json.dumps(report, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _order_summary(order) -> dict[str, Any]:
    """Number and per-finding deadlines of a rectification order, as printed on the report
    (findings withdrawn by a correction are left out)."""
    findings = []
    for f in _rectification("findings_of")(order):
        if f.status == "withdrawn":
            continue
        findings.append({"seq": f.seq, "item_id": f.item_id, "severity": f.severity,
                         "deadline": f.deadline.isoformat() if f.deadline else None,
                         "deadline_working_days": f.deadline_working_days})
    return {"id": str(order.id), "number": getattr(order, "number", None), "findings": findings}


def build_report(inspection: Inspection, order: dict[str, Any] | None) -> dict[str, Any]:
    """The report's content (what is printed and hashed); photos and signatures by SHA-256."""
    institution = _directory().get_institution(inspection.institution_id)
    evidence = _evidence()
    stored_photos = list(evidence.for_owner("inspection", str(inspection.id), kind="photo"))
    photos = {str(p.id): p.sha256 for p in stored_photos}
    positions = {str(p.id): (p.distance_m, list(p.position_flags or []), p.item_id) for p in stored_photos}
    signatures = {str(s.id): s.sha256 for s in evidence.for_owner("inspection", str(inspection.id), kind="signature")}
    deadlines = {f["item_id"]: f.get("deadline") for f in (order or {}).get("findings", [])}
    return {
        "inspection_id": str(inspection.id), "code": inspection.code,
        "institution": {"id": inspection.institution_id, "name": institution.name if institution else None,
                        "address": institution.address if institution else None,
                        "credit_code": institution.credit_code if institution else None},
        "team": team_view(list(inspection.team)),
        "checklist": {"code": inspection.checklist_code, "version": inspection.checklist_version,
                      "content_hash": inspection.content_hash},
        "checked_in_at": isoformat(inspection.checkin.received_at) if inspection.checkin else None,
        "checkin_distance_m": inspection.checkin.distance_m if inspection.checkin else None,
        "checkin_flagged": inspection.checkin.flagged if inspection.checkin else None,
        "concluded_at": isoformat(inspection.submission_started_at),
        "result": dict(inspection.result or {}),
        "findings": [{**{k: f.get(k) for k in ("item_id", "item_text", "clause", "severity", "points_lost",
                                                "deadline_working_days", "reinspection_required", "note",
                                                "deductions")},
                      "deadline": deadlines.get(f.get("item_id")),
                      "photos": [{"id": pid, "sha256": photos.get(pid), "distance_m": positions.get(pid, (None,))[0],
                                  "position_flags": positions.get(pid, (None, []))[1]}
                                 for pid in f.get("photo_ids", [])]}
                     for f in inspection.findings or []],
        "photos_beyond_radius": [{"id": pid, "item_id": item_id, "distance_m": distance, "flags": flags}
                                 for pid, (distance, flags, item_id) in positions.items() if flags],
        "order": order,
        "signatures": [{"role": s.signer_role, "name": s.signer_name, "evidence_id": s.evidence_id,
                        "sha256": signatures.get(s.evidence_id), "signed_at": isoformat(s.signed_at),
                        "uploaded_by": s.uploaded_by, "uploader": _account_name(s.uploaded_by),
                        "session_id": s.uploaded_session}
                       for s in inspection.signatures],
        "corrections": [{"at": isoformat(c.at), "reason": c.reason, "changes": c.changes,
                         "score_before": c.score_before, "score_after": c.score_after}
                        for c in inspection.corrections],
    }


def freeze_report(inspection: Inspection, order=None) -> None:
    """Freeze the report of a submitted inspection and its hash (as submission does; builders use it)."""
    report = build_report(inspection, _order_summary(order) if order is not None else None)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))


def verify_report(inspection_id: str, presented_hash: str | None) -> dict[str, Any] | None:
    """Public verification: the report's facts when ``presented_hash`` equals the stored hash, else None.

    A wrong hash and an unknown id answer the same, so the page cannot be used
    to probe which institutions were inspected.
    """
    import hmac

    oid = _oid(inspection_id)
    inspection = Inspection.objects(id=oid, state="submitted").first() if oid else None
    if inspection is None or not presented_hash or not inspection.report_hash:
        return None
    if not hmac.compare_digest(presented_hash.encode("ascii", "replace"), inspection.report_hash.encode("ascii")):
        return None
    report = inspection.report or {}
    return {"code": inspection.code, "institution_name": (report.get("institution") or {}).get("name"),
            "concluded_at": inspection.submitted_at, "report_hash": inspection.report_hash, "matches": True,
            "corrections": len(inspection.corrections)}


def report_for(user, inspection_id: str, *, now: datetime) -> Inspection:
    inspection = inspection_for(user, inspection_id, now=now)
    if inspection.state != "submitted" or not inspection.report:
        raise Conflict("检查尚未提交，暂无检查报告", code="REPORT_NOT_READY")
    return inspection


# --------------------------------------------------------------------------- corrections

def correct(user, inspection_id: str, body: dict[str, Any], *, now: datetime,
            config: dict[str, Any] | None = None) -> Inspection:
    """The lead's recorded correction of a submitted inspection: changes answers, re-scores, re-freezes the report.

    Idempotent by ``client_id`` and resumable like submission: the correction
    is recorded once, then the rectification order is reconciled with the new
    findings (withdrawn, added, changed), the report is re-frozen and the
    corrected hooks run (publication refreshes a published result); a replay
    finishes whichever of these steps a crash left undone.
    """
    config = config or {}
    assignment, inspector_id = _team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    if inspector_id != inspection.team[0]:
        raise Forbidden("只有检查组组长可以更正检查记录", code="NOT_TEAM_LEAD")
    if inspection.state != "submitted":
        raise Conflict("检查尚未提交，直接修改答案即可", code="NOT_SUBMITTED")
    client_id = str(body["client_id"])
    correction = _correction(inspection, client_id)
    if correction is None:
        _record_correction(user, inspection, inspector_id, client_id, body, now=now, config=config)
        inspection.reload()
        correction = _correction(inspection, client_id)
    order = _reconcile_order(inspection, correction, now=now)
    report = build_report(inspection, _order_summary(order) if order is not None else None)
    Inspection.objects(id=inspection.id).update_one(set__report=report, set__report_hash=content_hash(report))
    inspection.reload()
    for hook in _CORRECTED_HOOKS:
        hook(inspection, now)
    return inspection


def _correction(inspection: Inspection, client_id: str) -> Correction | None:
    return next((c for c in inspection.corrections if c.client_id == client_id), None)


def _record_correction(user, inspection: Inspection, inspector_id: str, client_id: str, body: dict[str, Any], *,
                       now: datetime, config: dict[str, Any]) -> None:
    """Validate and apply the changed answers, re-score, and append the correction (audited once)."""
    content = _content_of(inspection)
    index = _item_index(content)
    kind = _institution_kind(inspection.institution_id)
    problems = [p for p in (_validate_answer(index.get(c["item_id"]), c["item_id"], c["result"],
                                             list(c.get("deduction_codes") or []), kind)
                            for c in body["changes"]) if p]
    if problems:
        raise Unprocessable("更正内容无效", code="RESPONSES_INVALID", details={"problems": problems})
    ins_id = str(inspection.id)
    changes = []
    for change in body["changes"]:
        current = ItemResponse.objects(inspection_id=ins_id, item_id=change["item_id"]).first()
        before = response_view(current)
        fields = {"result": change["result"], "deduction_codes": list(change.get("deduction_codes") or []),
                  "note": change.get("note"), "client_id": f"correction:{client_id}", "updated_by": inspector_id,
                  "updated_at": now}
        if current is None:
            ItemResponse(inspection_id=ins_id, item_id=change["item_id"], revision=1, **fields).save()
        else:
            ItemResponse.objects(id=current.id).update_one(inc__revision=1, **{f"set__{k}": v for k, v in fields.items()})
        changes.append({"item_id": change["item_id"],
                        "before": {k: (before or {}).get(k) for k in ("result", "deduction_codes", "note")},
                        "after": {k: fields[k] for k in ("result", "deduction_codes", "note")}})
    before_result = dict(inspection.result or {})
    result, findings = _score_inspection(inspection, content, config)
    correction = Correction(client_id=client_id, at=now, by=str(user.id), reason=body["reason"], changes=changes,
                            score_before=before_result.get("score"), score_after=result["score"],
                            grade_before=before_result.get("grade"), grade_after=result["grade"])
    if Inspection.objects(id=inspection.id, corrections__client_id__ne=client_id).update_one(
            push__corrections=correction, set__result=result, set__findings=findings, set__updated_at=now):
        audit.record("inspection.corrected", actor=actor_of(user), target_type="inspection", target_id=ins_id,
                     region=inspection.region,
                     data={"client_id": client_id, "reason": body["reason"], "changes": changes,
                           "score_before": correction.score_before, "score_after": correction.score_after},
                     now=now)


def _reconcile_order(inspection: Inspection, correction: Correction, *, now: datetime):
    """The order after a correction: reconciled with the findings, or opened when the first ones appear."""
    findings = [_order_finding(f) for f in inspection.findings or []]
    if inspection.order_id:
        return _rectification("reconcile_order")(inspection.order_id, findings, reason=correction.reason,
                                                  corrected_at=correction.at, correction_id=correction.client_id,
                                                  now=now)
    order = _open_order(inspection_id=str(inspection.id), institution_id=inspection.institution_id,
                        region=inspection.region, lead_inspector_id=inspection.team[0], team=list(inspection.team),
                        checklist_code=inspection.checklist_code, findings=findings,
                        concluded_at=inspection.submission_started_at, deadlines_from=correction.at, now=now)
    if order is not None:
        if Inspection.objects(id=inspection.id, order_id=None).update_one(set__order_id=str(order.id)):
            _directory().record_risk_event(inspection.institution_id, past_findings=len(findings), now=now)
        inspection.reload()
    return order


# --------------------------------------------------------------------------- views

def assignment_views(assignments) -> list[dict[str, Any]]:
    """Assignment views with their institutions' name, address and public id and the team's names,
    lead first: two directory queries for the whole page (a phone lists its day without one
    request per row)."""
    assignments = list(assignments)
    directory = _directory()
    cards = directory.institution_cards(a.institution_id for a in assignments)
    inspectors = directory.inspectors_by_id({i for a in assignments for i in a.team or []})
    out = []
    for a in assignments:
        card = cards.get(a.institution_id) or {}
        members = [{"inspector_id": i, "role": "lead" if n == 0 else "member",
                    "name": inspectors[i].name if i in inspectors else None} for n, i in enumerate(a.team or [])]
        out.append({**assignment_view(a), "institution_name": card.get("name"),
                    "institution_address": card.get("address"), "institution_public_id": card.get("public_id"),
                    "team_members": members})
    return out


def _assignment_status(inspection_id) -> str | None:
    found = Assignment.objects(id=inspection_id).only("status").first()
    return found.status if found is not None else None


def _account_name(user_id: str | None) -> str | None:
    from inspect_api.auth.service import find_user

    user = find_user(user_id) if user_id else None
    return (user.display_name or user.username) if user is not None else None


def signature_view(ref: SignatureRef) -> dict[str, Any]:
    """A signature as the API shows it: who signed, who uploaded it and from which login."""
    return {"evidence_id": ref.evidence_id, "client_id": ref.client_id, "signer_role": ref.signer_role,
            "signer_name": ref.signer_name, "inspector_id": ref.inspector_id, "uploaded_by": ref.uploaded_by,
            "uploaded_session": ref.uploaded_session, "signed_at": isoformat(ref.signed_at)}


def inspection_view(inspection: Inspection, *, with_responses: bool = True) -> dict[str, Any]:
    checkin = inspection.checkin
    out = {
        "id": str(inspection.id), "assignment_id": str(inspection.id), "code": inspection.code,
        "institution_id": inspection.institution_id, "region": inspection.region, "team": list(inspection.team),
        "checklist_code": inspection.checklist_code, "checklist_version": inspection.checklist_version,
        "state": inspection.state,
        "assignment_status": _assignment_status(inspection.id),
        "checkin": None if checkin is None else {
            "inspector_id": checkin.inspector_id, "qr_version": checkin.qr_version, "latitude": checkin.latitude,
            "longitude": checkin.longitude, "accuracy_m": checkin.accuracy_m,
            "captured_at": isoformat(checkin.captured_at), "received_at": isoformat(checkin.received_at),
            "distance_m": checkin.distance_m, "radius_m": checkin.radius_m, "flagged": checkin.flagged,
            "flag_reasons": list(checkin.flag_reasons or [])},
        "signatures": [signature_view(s) for s in inspection.signatures],
        "photos": [{"id": str(p.id), "item_id": p.item_id, "client_id": p.client_id, "sha256": p.sha256,
                    "reused": bool(p.reused), "captured_at": isoformat(p.captured_at), "distance_m": p.distance_m,
                    "position_flags": list(p.position_flags or [])}
                   for p in _evidence().for_owner("inspection", str(inspection.id), kind="photo")],
        "submitted_at": isoformat(inspection.submitted_at),
        "result": dict(inspection.result) if inspection.result else None,
        "findings": list(inspection.findings or []),
        "order_id": inspection.order_id,
        "order_number": ((inspection.report or {}).get("order") or {}).get("number"),
        "report_hash": inspection.report_hash,
        "corrections": [{"client_id": c.client_id, "at": isoformat(c.at), "by": c.by, "reason": c.reason,
                         "changes": c.changes, "score_before": c.score_before, "score_after": c.score_after}
                        for c in inspection.corrections],
    }
    if with_responses:
        out["responses"] = [response_view(r) for r in
                            ItemResponse.objects(inspection_id=str(inspection.id)).order_by("item_id")]
    return out


def report_images(inspection: Inspection) -> dict[str, str]:
    """Photo thumbnails and signatures of a report as data: URIs (a printed page sends no bearer token)."""
    import base64

    evidence = _evidence()
    out = {}
    for item in evidence.for_owner("inspection", str(inspection.id)):
        data, content_type, _etag = evidence.variant_bytes(item, "thumb" if item.kind == "photo" else "display")
        out[str(item.id)] = f"data:{content_type};base64," + base64.b64encode(data).decode("ascii")
    return out
