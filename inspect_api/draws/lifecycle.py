"""Plans and draws: the lifecycle around the pure dr1 engine (DESIGN §5).

draft → committed → drawn → amended, or → cancelled (then committed again).

* **commit** freezes the snapshot (candidates with stratum/weight/mandatory,
  inspectors with starting load and load cap, conflicts, previous leads) and
  publishes ``commitment`` with its time; the nonce (``secrets.token_hex(32)``)
  stays secret in the draw document until the draw.
* **draw** takes the public entropy (1..256 characters, recorded verbatim),
  derives the seed, runs the engine, and only then flips the draw from
  ``committed`` to ``drawn`` with one conditional update; a failing draw
  (DrawError) answers 422 and stores nothing as drawn.  Assignments are created
  idempotently (dedupe key ``draw:<draw id>:<institution id>``), so a retry
  after a crash completes them; drawing again answers 409 (no silent redraw).
* **amend** replaces one team member by the engine's step 9 and appends the
  amendment to the record's ``"amendments"``; **cancel** records a public
  reason, cancels the draw's open assignments and lets the plan be committed
  again with a new commitment (the old draw stays public).

Decisions (documented here, see also the README of the issue):

* Plan kinds: ``site`` (inspection assignments) or ``desk_review`` (ledger
  spot checks, 台账资料抽查); the same dr1 draw and public record, with
  ``plan.kind`` in the record.  Loads, previous leads, the created work,
  amendments and cancellations go through the kind's registered handler
  (:mod:`inspect_api.draws.kinds`); a plan's checklist must have the purpose
  of its kind (422 ``PLAN_CATALOG_INVALID``).
* Starting loads: the number of *open* assignments (``assigned`` or
  ``in_progress``) — for a desk review, open ledger checks — the inspector
  is on at commit time: the work they already carry into the period.
  Finished and cancelled work does not count.
* Load cap per inspector: ``min(plan.load_cap, inspector.load_cap)``.
* Previous lead of an institution: ``team[0]`` of its most recent assignment
  that is not cancelled (random or targeted); for a desk review, of its most
  recent ledger check.
* Mandatory targets must lie inside the plan's scope and filters (422
  otherwise); they are kept even if recently inspected.
* Matters are codes of active catalog matters and ``checklist_code`` must have
  a published version (422 ``PLAN_CATALOG_INVALID`` with per-field details, on
  create, update and again at commit).
* Checklist per target: the plan's checklist where it covers the
  institution's kind, otherwise one that does (see :func:`checklist_for_kind`);
  the choice per kind is published in the record's ``plan.checklists_by_kind``.
* Amendments only until the institution's inspection starts (409
  ``INSPECTION_ALREADY_STARTED`` after check-in or submission).
* Strata: ``county`` → the institution's region code, ``kind`` → its kind,
  ``none`` → the single stratum ``"all"``.
* Weights: ``1 + per_past_finding·past_findings + per_overdue_rectification·
  overdue_rectifications + per_complaint·complaint_count +
  per_rejected_answer·rejected_answers + per_low_satisfaction·low_satisfaction``
  (ended quarters whose published satisfaction mean was low), capped at ``max_weight`` (config
  ``[risk]``), computed in Decimal and written with exactly 6 decimals;
  ``"1.000000"`` when the plan has risk weighting off.
* The record is compact JSON text (``separators=(",", ":")``), stored
  zlib-compressed in the draw document (:func:`pack_record`).  Nothing is
  hashed over that text: the commitment, the seed and every value ``u(label)``
  are computed over canonical JSON of the fields (DESIGN §5 step 1), so the
  storage format can change without changing any hash.  MongoDB refuses
  documents over 16 MiB.  As text, the bench case (100,000 institutions, 5,000
  inspectors, 20,000 conflicts, 10 %) takes ~13 MiB without previous leads and
  ~18 MiB once every institution has one; compressed it is about 1.2 MiB, and one
  document keeps every state change a single atomic update.  A record whose
  compressed size (plus, at commit, an uncompressed bound of what the draw will
  add) would exceed :data:`MAX_RECORD_BYTES` (15.5 MiB) is refused with 422
  ``DRAW_RECORD_TOO_LARGE`` at commit, draw and amendment; the office narrows
  the plan or splits it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Mapping

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api.audit import service as audit
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of
from inspect_api.clock import isoformat
from inspect_api.db import parse_oid
from inspect_api.draws import dr1, kinds, transitions
from inspect_api.draws.models import PLAN_KIND_PURPOSES, Draw, FailedAttempt, Plan
from inspect_api.draws.plans import (
    EDITABLE_STATES, LIVE_DRAW_STATES, institutions_by_id, plan_in_scope, validate_plan)
from inspect_api.draws.records import (
    checked_record, current_teams, dump_record, pack_record, plan_summary, record_of, result_bytes)
from inspect_api.draws.snapshot import (
    checklist_for_kind, checklists_by_kind, published_checklist_kinds, risk_settings, snapshot_with_candidates)
from inspect_api.errors import Conflict, Unprocessable

ALGORITHM = "dr1"


def commit_plan(user: User, plan_id: str, *, now: datetime, risk: Mapping[str, Any] | None = None) -> Draw:
    """Freeze the snapshot and publish the commitment (draft/cancelled → committed)."""
    plan = plan_in_scope(user, plan_id)
    if plan.state not in EDITABLE_STATES:
        raise Conflict("计划已提交承诺，需先取消才能重新提交", code="PLAN_ALREADY_COMMITTED",
                       details={"state": plan.state, "draw_id": plan.current_draw_id})
    validate_plan(user, plan)
    params, snapshot, candidates = snapshot_with_candidates(plan, now=now, risk=risk_settings(risk))
    summary = plan_summary(plan)
    summary["checklists_by_kind"] = checklists_by_kind(plan, candidates)
    nonce = secrets.token_hex(32)
    commitment = dr1.make_commitment(params, snapshot, nonce)
    draw_id = ObjectId()
    seq = plan.draw_count + 1
    record = {"algorithm": ALGORITHM, "params": params, "snapshot": snapshot, "commitment": commitment,
              "draw_id": str(draw_id), "seq": seq, "plan": summary, "committed_at": isoformat(now),
              "amendments": [], "cancellation": None}
    stored = checked_record(record, still_to_come=result_bytes(params, snapshot))
    draw = Draw(id=draw_id, plan_id=str(plan.id), seq=seq, region=plan.region, state="committed",
                record_gz=stored, commitment=commitment, nonce=nonce, committed_at=now, plan_name=summary["name"],
                created_by=str(user.id), updated_at=now)
    draw.validate()
    try:  # the draw and the plan's flip together (one transaction where the server has them)
        flipped = transitions.commit(draw, plan_id=plan.id, editable_states=tuple(EDITABLE_STATES),
                                     draw_count=plan.draw_count, now=now)
    except (NotUniqueError, DuplicateKeyError) as exc:
        raise Conflict("计划正在被他人提交承诺", code="PLAN_ALREADY_COMMITTED") from exc
    if not flipped:
        raise Conflict("计划状态已变化，请刷新后重试", code="PLAN_ALREADY_COMMITTED")
    audit.record("draw.committed", actor=actor_of(user), target_type="draw", target_id=str(draw_id),
                 region=plan.region, data={"plan_id": str(plan.id), "commitment": commitment, "seq": seq,
                                           "candidates": len(snapshot["institutions"]),
                                           "inspectors": len(snapshot["inspectors"])}, now=now)
    return draw


def _current_draw(plan: Plan) -> Draw:
    draw = Draw.objects(id=parse_oid(plan.current_draw_id)).first() if plan.current_draw_id else None
    if draw is None:
        raise Conflict("计划尚未提交承诺", code="PLAN_NOT_COMMITTED", details={"state": plan.state})
    return draw


def ensure_assignments(draw: Draw, *, now: datetime, created_by: str | None = None) -> int:
    """Create the drawn targets' work (idempotent; completes an interrupted draw): inspection assignments for
    a site plan, ledger checks for a desk review (:mod:`inspect_api.draws.kinds`)."""
    if draw.state not in ("drawn", "amended"):
        return 0
    record = record_of(draw)
    plan = record["plan"]
    plan_kind = plan.get("kind") or "site"
    regions = {i["id"]: i["region"] for i in record["snapshot"]["institutions"]}
    teams = current_teams(record)
    due = kinds.due_date_of(plan)
    targets = record["result"]["targets"]
    inst_kinds = {iid: inst.kind for iid, inst in institutions_by_id(targets).items()}
    by_kind = dict(plan.get("checklists_by_kind") or {})
    published = None
    work = []
    for iid in targets:
        kind = inst_kinds.get(iid)
        code = by_kind.get(kind)
        if code is None:  # a record committed before the choice by kind, or a kind changed since the commit
            published = published_checklist_kinds(PLAN_KIND_PURPOSES[plan_kind]) if published is None else published
            code = checklist_for_kind(kind, plan["checklist_code"], plan.get("matters") or [], published) \
                or plan["checklist_code"]
        work.append({"institution_id": iid, "region": regions[iid], "team": teams[iid], "checklist_code": code,
                     "matters": plan["matters"], "due_date": due})
    kinds.handler(plan_kind).create(draw_id=str(draw.id), plan_id=draw.plan_id, targets=work, now=now,
                                    created_by=created_by)
    return len(targets)


def draw_plan(user: User, plan_id: str, public_entropy: str, *, now: datetime) -> Draw:
    """Draw a committed plan with the public entropy (committed → drawn); 409 on any second draw."""
    plan = plan_in_scope(user, plan_id)
    if plan.state in ("drawn", "amended"):
        ensure_assignments(_current_draw(plan), now=now, created_by=str(user.id))
        raise Conflict("该承诺已抽取，不能重复抽取", code="ALREADY_DRAWN", details={"draw_id": plan.current_draw_id})
    if plan.state != "committed":
        raise Conflict("计划尚未提交承诺，不能抽取", code="PLAN_NOT_COMMITTED", details={"state": plan.state})
    if not isinstance(public_entropy, str) or not public_entropy.strip() or len(public_entropy) > 256:
        raise Unprocessable("公开随机源须为 1–256 个字符", code="ENTROPY_INVALID")
    draw = _current_draw(plan)
    if draw.state != "committed":
        raise Conflict("该承诺已抽取，不能重复抽取", code="ALREADY_DRAWN", details={"draw_id": str(draw.id)})
    record = record_of(draw)
    seed = dr1.make_seed(draw.commitment, public_entropy)
    try:
        result = dr1.draw(record["params"], record["snapshot"], seed)
    except dr1.DrawError as exc:
        failure = _draw_failure(exc, exc.institution_id)
        attempt = FailedAttempt(public_entropy=public_entropy, seed=seed, at=now, code=exc.code,
                                message=failure.message, institution_id=exc.institution_id)
        Draw.objects(id=draw.id, state="committed").update_one(push__failed_attempts=attempt, set__updated_at=now)
        audit.record("draw.failed", actor=actor_of(user), target_type="draw", target_id=str(draw.id),
                     region=plan.region, data={"public_entropy": public_entropy, "code": exc.code,
                                               **failure.details}, now=now)
        raise failure from exc
    drawn = dict(record)
    drawn.update({"nonce": draw.nonce, "public_entropy": public_entropy, "seed": seed,
                  "result": {"targets": list(result["targets"]), "teams": dict(result["teams"])},
                  "drawn_at": isoformat(now)})
    flipped = transitions.drawn(draw.id, plan.id, {
        "record_gz": checked_record(drawn), "public_entropy": public_entropy, "seed": seed, "drawn_at": now,
        "target_count": len(result["targets"])}, now=now)
    if not flipped:
        raise Conflict("该承诺已抽取，不能重复抽取", code="ALREADY_DRAWN", details={"draw_id": str(draw.id)})
    draw.reload()
    # Assignments after the flip, idempotently (keyed by draw and institution): a replay of the draw
    # (answered 409) or an amendment completes any a crash left out.
    ensure_assignments(draw, now=now, created_by=str(user.id))
    audit.record("draw.drawn", actor=actor_of(user), target_type="draw", target_id=str(draw.id), region=plan.region,
                 data={"plan_id": str(plan.id), "seed": seed, "public_entropy": public_entropy,
                       "targets": len(result["targets"])}, now=now)
    return draw


def _draw_failure(exc: dr1.DrawError, institution_id: str | None) -> Unprocessable:
    """The engine's DrawError as a 422 naming the institution by name as well as by id.

    The pure engine knows ids only; the name comes from the directory here.
    """
    inst = institutions_by_id([institution_id]).get(institution_id) if institution_id else None
    name = inst.name if inst is not None else None
    message = exc.message
    if name:
        named = f"机构“{name}”（{institution_id}）"
        message = (message.replace(f"机构 {institution_id} ", named, 1) if f"机构 {institution_id} " in message
                   else f"{named}：{message}")
    return Unprocessable(message, code=exc.code, details={
        "institution_id": institution_id, "institution_name": name, "slot": exc.slot, "counts": exc.counts})


def amend_draw(user: User, plan_id: str, institution_id: str, inspector_id: str, reason: str, *,
               now: datetime) -> Draw:
    """Replace one team member by DESIGN §5 step 9; recorded under ``amendments`` and applied to the assignment.

    Only while the institution's inspection has not started: once the team has
    checked in (or submitted) the amendment is refused with 409
    ``INSPECTION_ALREADY_STARTED`` and nothing is stored.  The assignment and
    its inspection get the new team together with the record.
    """
    plan = plan_in_scope(user, plan_id)
    if plan.state not in ("drawn", "amended"):
        raise Conflict("只有已抽取的计划才能调整检查组", code="PLAN_NOT_DRAWN", details={"state": plan.state})
    draw = _current_draw(plan)
    record = record_of(draw)
    teams = current_teams(record)
    if institution_id not in teams:
        raise Unprocessable("该机构不在本次抽取结果中", code="AMEND_NOT_A_TARGET", details={"institution_id": institution_id})
    if inspector_id not in teams[institution_id]:
        raise Unprocessable("该执法人员不在此机构的检查组中", code="AMEND_NOT_IN_TEAM",
                            details={"institution_id": institution_id, "inspector_id": inspector_id})
    if not reason or not reason.strip():
        raise Unprocessable("调整须说明理由", code="AMEND_REASON_REQUIRED")
    ensure_assignments(draw, now=now, created_by=str(user.id))
    work = kinds.handler(plan.kind)
    work.check_replaceable(str(draw.id), institution_id)  # 409 once checked in, submitted or under review
    try:
        amendment = dr1.amend(record, institution_id, inspector_id)
    except dr1.DrawError as exc:
        raise _draw_failure(exc, institution_id) from exc
    entry = dict(amendment)
    entry.update({"reason": reason, "at": isoformat(now)})
    amended = dict(record)
    amended["amendments"] = list(record.get("amendments") or []) + [entry]
    stored = checked_record(amended)
    # The team first (refused, changing nothing, if the inspection started meanwhile),
    # then the record; if the record lost a race, the team is put back.
    work.replace_member(str(draw.id), institution_id, entry["replaced"], entry["replacement"], now=now)
    flipped = False
    try:
        flipped = transitions.amended(draw.id, plan.id, stored, amendment_count=draw.amendment_count, now=now)
    finally:
        if not flipped:  # the record lost a race or failed: the team is put back
            work.replace_member(str(draw.id), institution_id, entry["replacement"], entry["replaced"], now=now)
    if not flipped:
        raise Conflict("抽取记录已被他人调整，请刷新后重试", code="DRAW_CHANGED")
    audit.record("draw.amended", actor=actor_of(user), target_type="draw", target_id=str(draw.id), region=plan.region,
                 data={"plan_id": str(plan.id), **entry}, now=now)
    draw.reload()
    return draw


def cancel_plan(user: User, plan_id: str, reason: str, *, now: datetime) -> Draw:
    """Cancel the live draw with a public reason; the plan may then be edited and committed again."""
    plan = plan_in_scope(user, plan_id)
    if plan.state not in LIVE_DRAW_STATES:
        raise Conflict("计划没有可取消的承诺或抽取", code="PLAN_NOT_CANCELLABLE", details={"state": plan.state})
    if not reason or not reason.strip():
        raise Unprocessable("取消须说明公开理由", code="CANCEL_REASON_REQUIRED")
    draw = _current_draw(plan)
    record = record_of(draw)
    record["cancellation"] = {"reason": reason, "at": isoformat(now)}
    # Not size-checked: a cancellation must always be possible, and a reason of at
    # most 500 characters fits in the room MAX_RECORD_BYTES leaves below 16 MiB.
    cancelled = transitions.cancelled(draw.id, plan.id, {
        "record_gz": pack_record(dump_record(record)), "cancel_reason": reason},
                                      live_states=tuple(LIVE_DRAW_STATES), updated_at=draw.updated_at, now=now)
    if cancelled is None:
        raise Conflict("抽取状态已变化，请刷新后重试", code="DRAW_CHANGED")
    # A site plan's unstarted assignments were cancelled with the draw (one transaction); other kinds'
    # work (ledger checks) is cancelled by its owner, and a replay completes either.
    cancelled += kinds.handler(plan.kind).cancel_open(str(draw.id), now=now)
    audit.record("draw.cancelled", actor=actor_of(user), target_type="draw", target_id=str(draw.id),
                 region=plan.region, data={"plan_id": str(plan.id), "reason": reason,
                                           "assignments_cancelled": cancelled}, now=now)
    draw.reload()
    return draw
