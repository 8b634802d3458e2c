"""Reads of draws: the office's and the public lists, one draw's view (names resolved), verification."""

from __future__ import annotations

from typing import Any, Mapping

from inspect_api.auth.models import User
from inspect_api.db import by_id, parse_oid
from inspect_api.draws import dr1
from inspect_api.draws.models import DRAW_STATES, Draw
from inspect_api.draws.plans import inspectors_by_id, institutions_by_id, plan_in_scope
from inspect_api.draws.records import current_teams, record_of
from inspect_api.errors import Conflict, NotFound
from inspect_api.scoping import in_scope, prefix_range, region_prefix, region_range

DRAW_LIST_INDEX = [("committed_at", -1), ("_id", -1), ("region", 1)]


def draw_in_scope(user: User, draw_id: str) -> Draw:
    draw = by_id(Draw, draw_id)
    if draw is None or not in_scope(user.region, draw.region):
        raise NotFound("抽取记录不存在", code="DRAW_NOT_FOUND")
    return draw


def list_draws(user: User, plan_id: str | None = None):
    if plan_id is not None:
        plan = plan_in_scope(user, plan_id)
        return Draw.objects(plan_id=str(plan.id)).exclude("record_gz").order_by("seq")
    return (Draw.objects(__raw__={"region": region_range(user.region)}).exclude("record_gz")
            .order_by("-committed_at", "-id").hint(DRAW_LIST_INDEX))


def public_draws(region: str | None = None):
    query = Draw.objects(state__in=DRAW_STATES)
    if region:
        query = query.filter(__raw__={"region": prefix_range(region_prefix(region) if len(region) == 6 else region)})
    return query.exclude("record_gz").order_by("-committed_at", "-id").hint(DRAW_LIST_INDEX)


def public_draw(draw_id: str) -> Draw:
    oid = parse_oid(draw_id)
    draw = Draw.objects(id=oid, state__in=DRAW_STATES).first() if oid else None
    if draw is None:
        raise NotFound("抽取记录不存在", code="DRAW_NOT_FOUND")
    return draw


def verify_draw(draw: Draw) -> dict[str, Any]:
    """Recompute commitment, seed, targets, teams (and amendments) from the stored record."""
    if draw.seed is None:
        raise Conflict("尚未抽取，随机数（nonce）未公开，暂不能验证", code="DRAW_NOT_DRAWN", details={"state": draw.state})
    return verify_record(record_of(draw))


def verify_record(record: Mapping[str, Any]) -> dict[str, Any]:
    try:
        differences = list(dr1.verify(record))
    except (dr1.RecordError, KeyError, TypeError, ValueError, AttributeError) as exc:
        differences = [str(exc)]
    return {"ok": not differences, "differences": [str(d) for d in differences]}


def list_item(draw: Draw) -> dict[str, Any]:
    """A draw's list entry, from the document's copies of the record facts (the record is not loaded)."""
    plan_name, target_count = draw.plan_name, draw.target_count
    if plan_name is None:  # a draw stored before the copies existed: read its record once
        record = record_of(Draw.objects.get(id=draw.id))
        plan_name = record["plan"]["name"]
        target_count = len(record["result"]["targets"]) if record.get("result") else None
    return {"id": str(draw.id), "plan_id": draw.plan_id, "seq": draw.seq, "region": draw.region,
            "state": draw.state, "plan_name": plan_name, "commitment": draw.commitment,
            "committed_at": draw.committed_at, "drawn_at": draw.drawn_at, "cancelled_at": draw.cancelled_at,
            "target_count": target_count}


def _amendment_views(amendments: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not amendments:
        return []
    insts = institutions_by_id(a.get("institution", a.get("institution_id")) for a in amendments)
    people = inspectors_by_id([a["replaced"] for a in amendments] + [a["replacement"] for a in amendments])
    out = []
    for a in amendments:
        iid = a.get("institution", a.get("institution_id"))
        inst, old, new = insts.get(iid), people.get(a["replaced"]), people.get(a["replacement"])
        out.append({"number": a.get("number"), "institution_id": iid, "institution_name": inst.name if inst else None,
                    "replaced": a["replaced"], "replaced_name": old.name if old else None,
                    "replacement": a["replacement"], "replacement_name": new.name if new else None,
                    "replacement_certificate_no": new.certificate_no if new else None,
                    "reason": a.get("reason"), "at": a.get("at")})
    return out


def draw_view(draw: Draw, *, base_url: str = "") -> dict[str, Any]:
    """Everything the API and the public page show of a draw (names resolved, amendments applied)."""
    record = record_of(draw)
    result = record.get("result")
    targets = []
    if result:
        teams = current_teams(record)
        mandatory = {i["id"] for i in record["snapshot"]["institutions"] if i["mandatory"]}
        insts = institutions_by_id(result["targets"])
        people = inspectors_by_id({m for team in teams.values() for m in team})
        for iid in result["targets"]:
            inst = insts.get(iid)
            team = []
            for member in teams[iid]:
                person = people.get(member)
                team.append({"id": member, "name": person.name if person else None,
                             "certificate_no": person.certificate_no if person else None,
                             "department": person.department if person else None})
            targets.append({"institution_id": iid, "name": inst.name if inst else None,
                            "region": inst.region if inst else None, "mandatory": iid in mandatory, "team": team})
    plan = record["plan"]
    return {
        "id": str(draw.id), "plan_id": draw.plan_id, "seq": draw.seq, "region": draw.region, "state": draw.state,
        "plan": plan, "commitment": draw.commitment, "committed_at": draw.committed_at,
        "candidates": len(record["snapshot"]["institutions"]), "inspectors": len(record["snapshot"]["inspectors"]),
        "nonce": record.get("nonce"), "public_entropy": record.get("public_entropy"), "seed": record.get("seed"),
        "drawn_at": draw.drawn_at, "targets": targets,
        "amendments": _amendment_views(record.get("amendments") or []),
        "cancelled_at": draw.cancelled_at, "cancel_reason": draw.cancel_reason,
        "failed_attempts": [{"public_entropy": a.public_entropy, "seed": a.seed, "at": a.at, "code": a.code,
                             "message": a.message} for a in draw.failed_attempts or []],
        "record_url": f"{base_url}/api/v1/public/draws/{draw.id}/record.json",
        "public_url": f"{base_url}/p/draws/{draw.id}",
    }
