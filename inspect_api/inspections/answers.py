"""Item answers: validation against the checklist and the offline phone's batch sync (per-item revisions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from mongoengine.errors import NotUniqueError

from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.clock import isoformat
from inspect_api.errors import Unprocessable
from inspect_api.inspections.models import Inspection, ItemResponse, ResponseWrite
from inspect_api.inspections.records import (
    applies, content_of, ensure_inspection, institution_kind, item_index, require_writable, team_assignment)


def response_view(resp: ItemResponse | None) -> dict[str, Any] | None:
    if resp is None:
        return None
    return {"item_id": resp.item_id, "revision": resp.revision, "result": resp.result,
            "deduction_codes": list(resp.deduction_codes or []), "note": resp.note, "client_id": resp.client_id,
            "client_updated_at": isoformat(resp.client_updated_at), "updated_by": resp.updated_by,
            "updated_at": isoformat(resp.updated_at)}


def current_responses(inspection_id) -> dict[str, ItemResponse]:
    return {r.item_id: r for r in ItemResponse.objects(inspection_id=str(inspection_id))}


def _deduction_codes(item: dict[str, Any]) -> set[str]:
    return {str(d.get("code")) for d in item.get("deductions") or [] if isinstance(d, dict)}


def _na_allowed(item: dict[str, Any], kind: str | None) -> bool:
    from checklists import applies_to

    return bool(item.get("na_allowed", False)) or not applies_to(item, kind)


def validate_answer(item: dict[str, Any] | None, item_id: str, result: str, codes: list[str],
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
    if not applies(item, kind) and result != "na":
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
    assignment, inspector_id = team_assignment(user, inspection_id)
    inspection = ensure_inspection(assignment, now=now)
    require_writable(inspection)
    index = item_index(content_of(inspection))
    kind = institution_kind(inspection.institution_id)
    problems = []
    for entry in items:
        problem = validate_answer(index.get(entry["item_id"]), entry["item_id"], entry["result"],
                                  list(entry.get("deduction_codes") or []), kind)
        if problem:
            problems.append(problem)
    if problems:
        raise Unprocessable("部分检查项目的答案无效，整批未保存", code="RESPONSES_INVALID",
                            details={"problems": problems})
    ins_id = str(inspection.id)
    if len({e["item_id"] for e in items}) == len(items):
        outcomes = _apply_batch(ins_id, items, inspector_id, now)
    else:  # an item edited twice in one batch: its writes chain, so they are applied in order, one by one
        outcomes = [_apply_one(ins_id, entry, inspector_id, now) for entry in items]
    counts = {"applied": 0, "duplicate": 0, "conflict": 0}
    for outcome in outcomes:
        counts[outcome["outcome"]] += 1
    if counts["applied"]:
        Inspection.objects(id=inspection.id).update_one(set__updated_at=now)
        audit.record("inspection.responses_synced", actor=actor_of(user), target_type="inspection",
                     target_id=ins_id, region=inspection.region, data=counts, now=now)
    return {"outcomes": outcomes, **counts}


def _fields(entry: dict[str, Any], inspector_id: str, now: datetime) -> dict[str, Any]:
    """What an applied write stores on the item's response, besides its revision."""
    return {"result": entry["result"], "deduction_codes": list(entry.get("deduction_codes") or []),
            "note": entry.get("note"), "client_id": str(entry["client_id"]),
            "client_updated_at": ItemResponse.client_updated_at.to_mongo(entry.get("client_updated_at")),
            "updated_by": inspector_id, "updated_at": now}


def _apply_batch(ins_id: str, items: list[dict[str, Any]], inspector_id: str, now: datetime) -> list[dict[str, Any]]:
    """A batch of writes to distinct items in a constant number of commands: the replays read at once, the
    new items inserted at once, the edits sent as one bulk of conditional updates, the results read back.

    Every write carries this batch's token, so the read-back tells the writes this batch applied from those
    that lost a race (conflict) and from a write applied before a crash lost its record (duplicate).
    """
    token = uuid.uuid4().hex
    seen = {w.client_id: w for w in ResponseWrite.objects(
        inspection_id=ins_id, client_id__in=[str(e["client_id"]) for e in items]).only("client_id", "revision")}
    fresh = [e for e in items if str(e["client_id"]) not in seen]
    responses = ItemResponse._get_collection()
    db.insert_ignoring_duplicates(responses, [
        {"inspection_id": ins_id, "item_id": e["item_id"], "revision": 1, **_fields(e, inspector_id, now),
         "write_token": token} for e in fresh if int(e["base_revision"]) == 0])
    db.update_many_each(responses, [
        ({"inspection_id": ins_id, "item_id": e["item_id"], "revision": int(e["base_revision"])},
         {"$inc": {"revision": 1}, "$set": {**_fields(e, inspector_id, now), "write_token": token}})
        for e in fresh if int(e["base_revision"]) > 0])
    current = {r.item_id: r for r in ItemResponse.objects(inspection_id=ins_id,
                                                          item_id__in=[e["item_id"] for e in items])}
    applied = [e for e in fresh if getattr(current.get(e["item_id"]), "write_token", None) == token]
    raced = set()
    if applied:
        refused = db.insert_ignoring_duplicates(ResponseWrite._get_collection(), [
            {"inspection_id": ins_id, "client_id": str(e["client_id"]), "item_id": e["item_id"],
             "revision": int(e["base_revision"]) + 1, "at": now} for e in applied])
        raced = {d["client_id"] for d in refused}  # the same client write raced itself: the first one answers
        if raced:
            seen.update({w.client_id: w for w in ResponseWrite.objects(inspection_id=ins_id, client_id__in=list(raced))})
    mine = {str(e["client_id"]) for e in applied} - raced
    outcomes = []
    for entry in items:
        client_id, now_at = str(entry["client_id"]), current.get(entry["item_id"])
        if client_id in mine:
            outcome = {"outcome": "applied", "revision": int(entry["base_revision"]) + 1}
        elif client_id in seen:
            outcome = {"outcome": "duplicate", "revision": seen[client_id].revision}
        elif now_at is not None and now_at.client_id == client_id:  # applied before a crash lost the write record
            outcome = {"outcome": "duplicate", "revision": now_at.revision}
        else:
            outcome = {"outcome": "conflict", "revision": now_at.revision if now_at else 0}
        outcomes.append({**outcome, "client_id": client_id, "item_id": entry["item_id"],
                         "current": response_view(now_at)})
    return outcomes


def _apply_one(ins_id: str, entry: dict[str, Any], inspector_id: str, now: datetime) -> dict[str, Any]:
    """One write (replay, insert or conditional update) and its outcome with the item's current answer."""
    client_id = str(entry["client_id"])
    seen = ResponseWrite.objects(inspection_id=ins_id, client_id=client_id).first()
    outcome = {"outcome": "duplicate", "revision": seen.revision} if seen is not None else \
        _apply(ins_id, entry, inspector_id, now)
    current = ItemResponse.objects(inspection_id=ins_id, item_id=entry["item_id"]).first()
    return {**outcome, "client_id": client_id, "item_id": entry["item_id"], "current": response_view(current)}


def _apply(ins_id: str, entry: dict[str, Any], inspector_id: str, now: datetime) -> dict[str, Any]:
    client_id = str(entry["client_id"])
    base = int(entry["base_revision"])
    fields = _fields(entry, inspector_id, now)
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
