"""The multi-document state changes of a draw, each in one transaction where the server has them.

Commit (a new draw + the plan's flip), draw (draw + plan), amendment (draw + plan) and
cancellation (draw + plan + the draw's unstarted assignments) change several documents.
Each function here runs its writes through :func:`inspect_api.db.transaction`: on a
replica set (and the local SecantusDB) they land together or not at all; on the
in-process store they run in order, every write guarded by the expected state, so a
replay finds each step done or completes it (the service re-ensures assignments on
replay).  They return False when the guarding state no longer holds (a concurrent
change); nothing is written then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from inspect_api import db
from inspect_api.draws.models import Draw, Plan

_ASSIGNMENTS = "assignments"


class _Lost(Exception):
    """The guarding state changed: abort the transaction (or undo the first write without one)."""


def _oid(value: Any) -> ObjectId:
    return value if isinstance(value, ObjectId) else ObjectId(str(value))


def commit(draw: Draw, *, plan_id: Any, editable_states: tuple[str, ...], draw_count: int, now: datetime) -> bool:
    """Insert the committed draw and flip the plan to committed (guarded by its state and draw count)."""
    doc = draw.to_mongo().to_dict()

    def write(session):
        db.collection(Draw).insert_one(doc, session=session)
        flipped = db.collection(Plan).update_one(
            {"_id": _oid(plan_id), "state": {"$in": list(editable_states)}, "draw_count": draw_count},
            {"$set": {"state": "committed", "current_draw_id": str(draw.id), "updated_at": now},
             "$inc": {"draw_count": 1}}, session=session)
        if not flipped.modified_count:
            raise _Lost()

    return _run(write, undo=lambda: db.collection(Draw).delete_one({"_id": doc["_id"], "state": "committed"}))


def drawn(draw_id: Any, plan_id: Any, fields: dict[str, Any], *, now: datetime) -> bool:
    """committed → drawn for the draw (with its record and result) and its plan."""

    def write(session):
        flipped = db.collection(Draw).update_one({"_id": _oid(draw_id), "state": "committed"},
                                                 {"$set": {**fields, "state": "drawn", "updated_at": now}},
                                                 session=session)
        if not flipped.modified_count:
            raise _Lost()
        db.collection(Plan).update_one({"_id": _oid(plan_id), "current_draw_id": str(draw_id), "state": "committed"},
                                       {"$set": {"state": "drawn", "updated_at": now}}, session=session)

    return _run(write)


def amended(draw_id: Any, plan_id: Any, record_gz: bytes, *, amendment_count: int, now: datetime) -> bool:
    """Store an amended record (guarded by the amendment count) and mark the plan amended."""

    def write(session):
        flipped = db.collection(Draw).update_one(
            {"_id": _oid(draw_id), "state": {"$in": ["drawn", "amended"]}, "amendment_count": amendment_count},
            {"$set": {"state": "amended", "record_gz": record_gz, "updated_at": now}, "$inc": {"amendment_count": 1}},
            session=session)
        if not flipped.modified_count:
            raise _Lost()
        db.collection(Plan).update_one(
            {"_id": _oid(plan_id), "current_draw_id": str(draw_id), "state": {"$in": ["drawn", "amended"]}},
            {"$set": {"state": "amended", "updated_at": now}}, session=session)

    return _run(write)


def cancelled(draw_id: Any, plan_id: Any, fields: dict[str, Any], *, live_states: tuple[str, ...],
              updated_at: datetime | None, now: datetime) -> int | None:
    """Cancel the draw (guarded by its last update), its plan and its unstarted assignments.

    Returns the number of assignments cancelled, or None when the draw changed meanwhile.
    """
    counted: dict[str, int] = {}

    def write(session):
        flipped = db.collection(Draw).update_one(
            {"_id": _oid(draw_id), "state": {"$in": list(live_states)}, "updated_at": updated_at},
            {"$set": {**fields, "state": "cancelled", "cancelled_at": now, "updated_at": now}}, session=session)
        if not flipped.modified_count:
            raise _Lost()
        db.collection(Plan).update_one({"_id": _oid(plan_id), "current_draw_id": str(draw_id)},
                                       {"$set": {"state": "cancelled", "updated_at": now}}, session=session)
        counted["n"] = cancel_unstarted_assignments(str(draw_id), now, session=session)

    return counted.get("n", 0) if _run(write) else None


def cancel_unstarted_assignments(draw_id: str, now: datetime, *, session=None) -> int:
    """Cancel a cancelled draw's assignments that have not started (idempotent: completes a replay)."""
    result = db.database()[_ASSIGNMENTS].update_many({"draw_id": draw_id, "status": "assigned"},
                                                     {"$set": {"status": "cancelled", "updated_at": now}},
                                                     session=session)
    return result.modified_count


def _run(write, undo=None) -> bool:
    try:
        db.transaction(write)
        return True
    except _Lost:
        if undo is not None and not db.supports_transactions():
            undo()
        return False
