"""Inspection logic: plain functions with explicit ``now`` and acting user."""

from __future__ import annotations

from datetime import date, datetime

from mongoengine.errors import NotUniqueError

from inspect_api.errors import Unprocessable
from inspect_api.inspections.models import TARGETED_REASONS, Assignment


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


def replace_team_member(assignment_id: str, old_inspector_id: str, new_inspector_id: str, *, now: datetime) -> None:
    """Swap one member (draw amendment); the position (lead first) is kept."""
    assignment = Assignment.objects.get(id=assignment_id)
    team = [new_inspector_id if x == old_inspector_id else x for x in assignment.team]
    Assignment.objects(id=assignment.id, team=old_inspector_id).update_one(set__team=team, set__updated_at=now)


def assignments_for_draw(draw_id: str):
    return Assignment.objects(draw_id=draw_id).order_by("created_at")
