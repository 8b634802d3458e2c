"""The inspection record: adapters to other areas, checklist helpers, access and identity.

Identity: an inspection's id is its assignment's id (one inspection per
assignment, created lazily by :func:`ensure_inspection`).  Other areas are
reached only through their public functions (the directory's modules directly;
evidence and the catalog through the small adapters here,
:func:`evidence_service` and :func:`checklist_version`).  Rectification, which sits above
inspections, is never imported: it registers its order functions in
:mod:`inspect_api.inspections.hooks` at app start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mongoengine.errors import NotUniqueError

from inspect_api import db
from inspect_api.clock import SHANGHAI
from inspect_api.directory.inspectors import inspector_cards, inspector_for_user
from inspect_api.directory.institutions import get_institution
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.inspections.models import Assignment, Inspection, InspectionCounter
from inspect_api.scoping import in_scope

# Short human prefixes for inspection codes by city (Shandong); others use "JC".
CITY_PREFIXES = {
    "3701": "JN", "3702": "QD", "3703": "ZB", "3704": "ZZ", "3705": "DY", "3706": "YT", "3707": "WF",
    "3708": "JG", "3709": "TA", "3710": "WH", "3711": "RZ", "3713": "LY", "3714": "DZ", "3715": "LC",
    "3716": "BZ", "3717": "HZ",
}


def evidence_service():
    from inspect_api.evidence import service as evidence

    return evidence


def checklist_version(code: str, version: int | None = None) -> dict[str, Any] | None:
    """``{code, version, content, content_hash}`` of a published checklist version (latest when None)."""
    from inspect_api.catalog import service as catalog

    found = catalog.get_version(code, version) if version else catalog.latest_version(code)
    if found is None:
        return None
    return {"code": found.code, "version": found.version, "content": found.content,
            "content_hash": found.content_hash}


def checklist_items(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a checklist, in document order."""
    from checklists import iter_items

    return [item for _section, item in iter_items(content)]


def item_index(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in checklist_items(content)}


def applies(item: dict[str, Any], kind: str | None) -> bool:
    from checklists import applies_to

    return applies_to(item, kind)


def inspector_id_of(user) -> str | None:
    """The directory inspector id of an inspector user."""
    if getattr(user, "inspector_id", None):
        return user.inspector_id
    try:
        inspector = inspector_for_user(user)
    except Exception:  # noqa: BLE001 - no directory link means "not an inspector"
        return None
    return str(inspector.id) if inspector is not None else None


def _not_found() -> NotFound:
    return NotFound("检查任务不存在", code="ASSIGNMENT_NOT_FOUND")


def assignment_for(user, assignment_id: str) -> Assignment:
    """The assignment if ``user`` may see it (office of the region, inspector of the team), else 404."""
    assignment = db.by_id(Assignment, assignment_id)
    if assignment is None or not _may_see(user, assignment.region, assignment.team):
        raise _not_found()
    return assignment


def stored_assignment_for(user, assignment_id: str) -> dict[str, Any]:
    """:func:`assignment_for` as stored (no document built), for a caller that only reads it."""
    oid = db.parse_oid(assignment_id)
    stored = db.collection(Assignment).find_one({"_id": oid}) if oid else None
    if stored is None or not _may_see(user, stored.get("region"), stored.get("team")):
        raise _not_found()
    return stored


def _may_see(user, region: str | None, team: list[str] | None) -> bool:
    """An office sees its region's assignments, an inspector those of its teams."""
    if user.role == "office_admin":
        return in_scope(user.region, region)
    return user.role == "inspector" and inspector_id_of(user) in (team or [])


def cancelled_conflict() -> Conflict:
    return Conflict("检查任务已取消（抽查计划或抽取已取消），不能再签到、填写或提交", code="ASSIGNMENT_CANCELLED",
                    details={"status": "cancelled"})


def team_assignment(user, assignment_id: str) -> tuple[Assignment, str]:
    """For writes: the caller must be an inspector on the team (others: 404; non-inspectors: 403),
    and the assignment must not be cancelled (409 ``ASSIGNMENT_CANCELLED``)."""
    if user.role != "inspector":
        raise Forbidden("只有检查组成员可以填写检查记录", code="ROLE_FORBIDDEN")
    assignment = assignment_for(user, assignment_id)
    if assignment.status == "cancelled":
        raise cancelled_conflict()
    return assignment, inspector_id_of(user)


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


def content_of(inspection: Inspection) -> dict[str, Any]:
    version = checklist_version(inspection.checklist_code, inspection.checklist_version)
    if version is None:
        raise Unprocessable("检查表版本不存在", code="CHECKLIST_NOT_FOUND")
    return version["content"]


def require_writable(inspection: Inspection) -> None:
    if inspection.state == "submitted" or inspection.submission_started_at is not None:
        raise Conflict("检查已提交并锁定，只能通过更正记录修改", code="INSPECTION_LOCKED",
                       details={"state": inspection.state})
    if inspection.state != "checked_in":
        raise Conflict("尚未签到：请先扫描机构二维码签到", code="NOT_CHECKED_IN", details={"state": inspection.state})


def institution_kind(institution_id: str) -> str | None:
    institution = get_institution(institution_id)
    return institution.kind if institution is not None else None


def lonlat(institution) -> tuple[float | None, float | None]:
    """(longitude, latitude) of an institution (a document, or its stored fields as a dict), or Nones."""
    loc = institution.get("location") if isinstance(institution, dict) else getattr(institution, "location", None)
    if not loc:
        return None, None
    coords = loc.get("coordinates") if isinstance(loc, dict) else loc
    if not coords or len(coords) < 2:
        return None, None
    return float(coords[0]), float(coords[1])


def team_view(team: list[str], inspectors: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The team, lead first, with names, certificate numbers and departments (one directory query, unless the
    caller read the cards with other reads: ``inspectors``)."""
    inspectors = inspector_cards(team) if inspectors is None else inspectors
    out = []
    for position, inspector_id in enumerate(team):
        card = inspectors.get(inspector_id) or {}
        out.append({"inspector_id": inspector_id, "role": "lead" if position == 0 else "member",
                    "name": card.get("name"), "certificate_no": card.get("certificate_no"),
                    "department": card.get("department")})
    return out
