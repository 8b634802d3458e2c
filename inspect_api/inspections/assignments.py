"""Assignments (检查任务): created by draws, targeted inspections and re-inspections; team changes; lists.

Also the directory and evidence hooks that let an assigned inspector read its
institution (and its photos) and keep assigned records from being deleted.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any, Iterable

from mongoengine.errors import NotUniqueError

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, as_utc, isoformat
from inspect_api.directory.conflicts import conflict_pairs
from inspect_api.directory.hooks import register_access_check, register_history_check
from inspect_api.batched import Query, Read, read_together
from inspect_api.directory.inspectors import get_inspector, inspector_cards, inspector_cards_from, inspector_cards_read
from inspect_api.directory.institutions import get_institution, institution_cards_from, institution_cards_read
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.inspections.models import TARGETED_REASONS, Assignment, Inspection
from inspect_api.inspections.records import cancelled_conflict, checklist_version, evidence_service, inspector_id_of
from inspect_api.scoping import in_scope, region_range

COMMUNITY_CHECKLIST = "DB37T4087-2020"
INSTITUTION_CHECKLIST = "DB37T4086-2020"


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
    register_access_check(_assigned_inspector_may_read)
    register_history_check(_has_assignments)
    evidence_service().register_access_check(_assigned_inspector_may_see_photo)


def create_assignment(*, institution_id: str, region: str, team: list[str], source: str, checklist_code: str,
                      now: datetime, dedupe_key: str, matters: list[str] | None = None,
                      checklist_version: int | None = None, reason: str | None = None,
                      reason_note: str | None = None, plan_id: str | None = None, draw_id: str | None = None,
                      parent_order_id: str | None = None, due_date: date | None = None,
                      created_by: str | None = None, names: dict[str, str | None] | None = None) -> Assignment:
    """Create an assignment once per ``dedupe_key`` (a retry returns the first one).

    Draws use ``draw:<draw id>:<institution id>``; targeted inspections a key
    of their own (e.g. ``reinspection:<order id>`` or the client's UUID).  ``names`` (inspector id →
    name) saves the look-up of the team's names when the caller has them (a draw: for all its teams).
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
    names = names if names is not None and all(i in names for i in team) else team_names_by_id(team)
    assignment = Assignment(
        institution_id=institution_id, region=region, team=list(team), team_names=_stored_names(team, names),
        source=source, random=source == "draw",
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
        raise cancelled_conflict()
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
    names = team_names_by_id(team)
    if not Assignment.objects(id=assignment.id, status="assigned", team=old_inspector_id).update_one(
            set__team=team, set__team_names=_stored_names(team, names), set__updated_at=now):
        assignment.reload()
        _replaceable(assignment)
        raise Conflict("检查组已被他人调整，请刷新后重试", code="TEAM_CHANGED")
    inspection = Inspection.objects(id=assignment.id).first()
    if inspection is not None and not Inspection.objects(
            id=assignment.id, state="assigned", submission_started_at=None, team=old_inspector_id).update_one(
            set__team=team, set__updated_at=now):
        Assignment.objects(id=assignment.id, team=team).update_one(
            set__team=before, set__team_names=list(assignment.team_names or []), set__updated_at=now)
        assignment.reload()
        raise _started(assignment, Inspection.objects(id=assignment.id).first())


def team_names_by_id(inspector_ids: Iterable[str]) -> dict[str, str | None]:
    """Inspector id → name, in one query (an unknown id has no name)."""
    return {i: card["name"] for i, card in inspector_cards(inspector_ids).items()}


def _stored_names(team: list[str], names: dict[str, str | None]) -> list[str]:
    """The names stored with a team: all of them in team order, or none when one is unknown."""
    found = [names.get(i) for i in team]
    return found if all(found) else []


def _stored_team_names(assignments: list[Assignment]) -> tuple[dict[str, str | None], set[str]]:
    """The team names stored with these assignments, and the members stored without one."""
    stored = {i: n for a in assignments if len(a.team_names or []) == len(a.team or [])
              for i, n in zip(a.team, a.team_names)}
    return stored, {i for a in assignments for i in a.team or [] if i not in stored}


def assignments_for_draw(draw_id: str):
    return Assignment.objects(draw_id=draw_id).order_by("created_at")


def default_checklist_code(institution_kind: str | None) -> str:
    """DB37/T 4087 (community) for community stations, DB37/T 4086 (institutional) otherwise."""
    return COMMUNITY_CHECKLIST if institution_kind == "community_station" else INSTITUTION_CHECKLIST


def create_targeted(user, body: dict[str, Any], *, now: datetime) -> Assignment:
    """An office's targeted (专项, non-random) inspection of an institution in its region."""
    institution = get_institution(body["institution_id"])
    if institution is None or not in_scope(user.region, institution.region):
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    problems = []
    for inspector_id in body["team"]:
        inspector = get_inspector(inspector_id)
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
    pairs = conflict_pairs(inspector_ids=team, institution_ids=[institution_id],
                           on=now.astimezone(SHANGHAI).date())
    return [i for i in team if (i, institution_id) in pairs]


def my_assignments(user, *, status: str | None = None, date_from: date | None = None,
                   date_to: date | None = None) -> Query:
    """The query of an inspector's own assignments, newest first (filter by status and due-date range)."""
    collection = Assignment._get_collection_name()
    inspector_id = inspector_id_of(user)
    if inspector_id is None:
        return Query(collection, {"_id": None})  # none
    flt: dict[str, Any] = {"team": inspector_id}
    if status:
        flt["status"] = status
    due = Assignment._fields["due_date"]
    bounds = {op: due.prepare_query_value(op, day) for op, day in (("$gte", date_from), ("$lte", date_to)) if day}
    if bounds:
        flt["due_date"] = bounds
    # No hint: the team's own index entries serve it (with the status: its (team, status, ...) index); a hint
    # would make the local server walk every assignment's entries.
    return Query(collection, flt, sort=(("created_at", -1), ("_id", -1)))


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


class StoredAssignment:
    """Attribute access to an assignment as stored (``as_pymongo``), for code that only reads it: lists and the
    bundle read raw documents, building mongoengine documents was most of their cost."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        if name == "id":
            return self._raw["_id"]
        value = self._raw.get(name)
        if name == "due_date" and isinstance(value, datetime):
            return value.date()  # a DateField is stored as a midnight datetime
        if value is None and name == "status":
            return Assignment.status.default
        return value


# Fields an assignment's view shows as they are stored.
_PLAIN_FIELDS = ("institution_id", "region", "source", "random", "reason", "reason_note", "plan_id", "draw_id",
                 "parent_order_id", "checklist_code", "checklist_version")


def assignment_view(assignment: Assignment | dict[str, Any] | StoredAssignment) -> dict[str, Any]:
    """An assignment's fields as the API shows them (a document, or the stored document as a dict, read by
    key: attribute reads through a wrapper cost more than the rest of a list's view)."""
    if isinstance(assignment, StoredAssignment):
        assignment = assignment._raw
    if isinstance(assignment, dict):
        get, ident = assignment.get, assignment["_id"]
    else:
        get, ident = functools.partial(getattr, assignment), assignment.id
    due, status = get("due_date"), get("status")
    if isinstance(due, datetime):
        due = due.date()  # a DateField is stored as a midnight datetime
    return {
        "id": str(ident), **{name: get(name) for name in _PLAIN_FIELDS}, "team": list(get("team")),
        "matters": list(get("matters") or []), "due_date": due.isoformat() if due else None,
        "status": Assignment.status.default if status is None else status,
        "created_at": isoformat(get("created_at")),
    }


def assignment_views(assignments) -> list[dict[str, Any]]:
    """Assignment views with their institutions' name, address and public id and the team's names,
    lead first: one directory query for the whole page (the names are stored with each assignment; a
    phone lists its day without one request per row)."""
    return assignment_views_with(assignments)[0]


def assignment_views_with(assignments, *reads: Read | None) -> tuple[list[dict[str, Any]], list[Any]]:
    """:func:`assignment_views`, plus the results of ``reads`` read in the same round trip (the office's list
    adds its inspections and photo counts)."""
    assignments = [StoredAssignment(a) if isinstance(a, dict) else a for a in assignments]
    names, missing = _stored_team_names(assignments)
    cards_rows, names_rows, *extra = read_together(
        institution_cards_read(a.institution_id for a in assignments), inspector_cards_read(missing), *reads)
    cards = institution_cards_from(cards_rows)
    names = {**{i: card["name"] for i, card in inspector_cards_from(names_rows).items()}, **names}
    out = []
    for a in assignments:
        card = cards.get(a.institution_id) or {}
        members = [{"inspector_id": i, "role": "lead" if n == 0 else "member", "name": names.get(i)}
                   for n, i in enumerate(a.team or [])]
        out.append({**assignment_view(a), "institution_name": card.get("name"),
                    "institution_address": card.get("address"), "institution_public_id": card.get("public_id"),
                    "team_members": members})
    return out, extra


