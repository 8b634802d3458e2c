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

import json
import secrets
import zlib
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from bson import ObjectId
from bson.errors import InvalidId
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api.audit import service as audit
from inspect_api.catalog import service as catalog
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, as_utc, isoformat
from inspect_api.draws import dr1, kinds, transitions
from inspect_api.draws.models import (DEFAULT_CHECKLISTS, DRAW_STATES, PLAN_KIND_PURPOSES, PLAN_KINDS, Draw,
                                      FailedAttempt, MandatoryTarget, Plan, TargetFilters)
from inspect_api.draws.schemas import normalize_ratio
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.directory import service as directory
from inspect_api.scoping import in_scope, is_region_code, prefix_range, region_prefix, region_range

ALGORITHM = "dr1"
OPEN_ASSIGNMENT_STATES = ("assigned", "in_progress")
DEFAULT_RISK = {"per_past_finding": 0.1, "per_overdue_rectification": 0.5, "per_complaint": 0.25,
                "per_rejected_answer": 0.25, "per_low_satisfaction": 0.5, "max_weight": 5.0}
#: Largest record (compressed bytes) a draw document may carry; MongoDB's limit is 16 MiB.
MAX_RECORD_BYTES = 15 * 1024 * 1024 + 512 * 1024
EDITABLE_STATES = ("draft", "cancelled")
LIVE_DRAW_STATES = ("committed", "drawn", "amended")
SIX = Decimal("0.000001")

PLAN_FIELDS = ("name", "kind", "region", "period_start", "period_end", "matters", "checklist_code", "departments", "ratio",
               "count", "stratification", "min_per_stratum", "risk_weighting", "exclude_inspected_within_days",
               "team_size", "required_departments", "load_cap", "cross_region", "no_repeat_lead")

# Hints of the office and public lists: sort keys first, then the region, so the server walks the
# index in list order and tests the region range on the keys (no in-memory sort).
PLAN_LIST_INDEX = [("created_at", -1), ("_id", -1), ("region", 1)]
DRAW_LIST_INDEX = [("committed_at", -1), ("_id", -1), ("region", 1)]


# --------------------------------------------------------------------------- directory reads

def _oid(value: str) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def _prefix(code_or_prefix: str) -> str:
    """A six-digit code stands for its subtree; anything shorter is a raw prefix."""
    return region_prefix(code_or_prefix) if is_region_code(code_or_prefix) else code_or_prefix


def _institutions_by_id(ids: Iterable[str]) -> dict[str, Any]:
    ids = list(set(ids))
    return {str(i.id): i for i in directory.find_institutions(region_prefix="", ids=ids)} if ids else {}


def _inspectors_by_id(ids: Iterable[str]) -> dict[str, Any]:
    ids = list(set(ids))
    return {str(i.id): i for i in directory.find_inspectors(ids=ids, active=None)} if ids else {}


# --------------------------------------------------------------------------- plans

def _actor(user: User):
    return actor_of(user)


def plan_in_scope(user: User, plan_id: str) -> Plan:
    oid = _oid(plan_id)
    plan = Plan.objects(id=oid).first() if oid else None
    if plan is None or not in_scope(user.region, plan.region):
        raise NotFound("抽查计划不存在", code="PLAN_NOT_FOUND")
    return plan


def list_plans(user: User, state: str | None = None):
    query = Plan.objects(__raw__={"region": region_range(user.region)})
    if state:
        query = query.filter(state=state)
    return query.order_by("-created_at", "-id").hint(PLAN_LIST_INDEX)


def _matches_filters(inst, plan: Plan) -> bool:
    prefix = region_prefix(plan.region)
    f = plan.filters or TargetFilters()
    if not (inst.region or "").startswith(prefix):
        return False
    if f.region_prefix and not inst.region.startswith(_prefix(f.region_prefix)):
        return False
    if f.kinds and inst.kind not in f.kinds:
        return False
    if f.tags and not set(f.tags) & set(inst.tags or []):
        return False
    statuses = f.statuses or []
    return not statuses or inst.status in statuses


def _apply(plan: Plan, data: Mapping[str, Any]) -> None:
    for key in PLAN_FIELDS:
        if key in data:
            setattr(plan, key, data[key])
    if "filters" in data:
        f = data["filters"] or {}
        plan.filters = TargetFilters(region_prefix=f.get("region_prefix"), kinds=list(f.get("kinds") or []),
                                     tags=list(f.get("tags") or []),
                                     statuses=list(f.get("statuses", ["active"]) or []))
    if "mandatory" in data:
        plan.mandatory = [MandatoryTarget(institution_id=m["institution_id"], reason=m["reason"])
                          for m in data["mandatory"] or []]


def _validate_catalog(plan: Plan) -> None:
    """Matters must be active matters of the catalog (抽查事项清单), the checklist a published one; 422 per field."""
    fields: dict[str, Any] = {}
    known = {m.code: m for m in catalog.list_matters()}
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for n, code in enumerate(plan.matters or []):
        matter = known.get(code)
        if code in seen:
            problems[str(n)] = [f"抽查事项 {code} 重复"]
        elif matter is None:
            problems[str(n)] = [f"抽查事项 {code} 不在抽查事项清单中"]
        elif not matter.active:
            problems[str(n)] = [f"抽查事项 {code}（{matter.name}）已停用"]
        seen.add(code)
    if problems:
        fields["matters"] = problems
    latest = catalog.latest_version(plan.checklist_code)
    purpose = PLAN_KIND_PURPOSES[plan.kind or "site"]
    if latest is None:
        fields["checklist_code"] = [f"检查表 {plan.checklist_code} 不存在或没有已发布的版本"]
    elif catalog.checklist_purpose(latest) != purpose:
        fields["checklist_code"] = [f"检查表 {plan.checklist_code} 不适用于{PLAN_KINDS[plan.kind or 'site']}计划"
                                    "（现场检查计划用现场检查表，台账资料抽查计划用台账资料抽查清单）"]
    if fields:
        raise Unprocessable("抽查事项或检查表无效：事项须为抽查事项清单中启用的事项编码，检查表须已发布",
                            code="PLAN_CATALOG_INVALID", details={"fields": fields})


def _validate(user: User, plan: Plan) -> None:
    """Cross-field rules of a plan (on create, update and again at commit)."""
    if not in_scope(user.region, plan.region):
        raise Forbidden("计划范围超出本办公室管辖区域", code="PLAN_REGION_OUT_OF_SCOPE",
                        details={"region": plan.region})
    if plan.period_end < plan.period_start:
        raise Unprocessable("计划结束日期早于开始日期", code="PLAN_PERIOD_INVALID")
    if (plan.ratio is None) == (plan.count is None):
        raise Unprocessable("须且只能给出抽查比例 ratio 或固定数量 count 之一", code="PLAN_SIZE_INVALID")
    if plan.ratio is not None:
        try:
            plan.ratio = normalize_ratio(plan.ratio)
        except Exception as exc:  # marshmallow ValidationError
            raise Unprocessable("抽查比例须大于 0 且不超过 1（最多 6 位小数）", code="PLAN_RATIO_INVALID") from exc
    if plan.team_size is None or plan.team_size < 2:
        raise Unprocessable("检查组至少需要两名执法人员", code="TEAM_TOO_SMALL")
    if len(plan.required_departments) > plan.team_size:
        raise Unprocessable("指定部门数多于检查组人数", code="PLAN_REQUIRED_DEPARTMENTS_INVALID")
    if plan.departments and not set(plan.required_departments) <= set(plan.departments):
        raise Unprocessable("指定部门须在参与部门之内", code="PLAN_REQUIRED_DEPARTMENTS_INVALID",
                            details={"departments": list(plan.departments)})
    prefix = region_prefix(plan.region)
    f = plan.filters or TargetFilters()
    if f.region_prefix and not _prefix(f.region_prefix).startswith(prefix):
        raise Unprocessable("筛选区划不在计划范围内", code="PLAN_FILTER_OUT_OF_SCOPE",
                            details={"region_prefix": f.region_prefix})
    _validate_catalog(plan)
    ids = [m.institution_id for m in plan.mandatory]
    if len(set(ids)) != len(ids):
        raise Unprocessable("必查对象重复", code="MANDATORY_DUPLICATE")
    if ids:
        found = _institutions_by_id(ids)
        for iid in ids:
            inst = found.get(iid)
            if inst is None or not _matches_filters(inst, plan):
                raise Unprocessable("必查对象不在计划范围或筛选条件内", code="MANDATORY_OUT_OF_SCOPE",
                                    details={"institution_id": iid})


def create_plan(user: User, data: Mapping[str, Any], *, now: datetime) -> Plan:
    plan = Plan(region=data.get("region") or user.region, state="draft", created_by=str(user.id), created_at=now,
                updated_at=now)
    data = dict(data)
    if not data.get("checklist_code"):
        data["checklist_code"] = DEFAULT_CHECKLISTS[data.get("kind") or "site"]
    _apply(plan, {k: v for k, v in data.items() if k != "region"})
    _validate(user, plan)
    plan.save(force_insert=True)
    audit.record("draw.plan_created", actor=_actor(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"name": plan.name}, now=now)
    return plan


def update_plan(user: User, plan_id: str, data: Mapping[str, Any], *, now: datetime) -> Plan:
    plan = plan_in_scope(user, plan_id)
    if plan.state not in EDITABLE_STATES:
        raise Conflict("计划已提交承诺，不能修改（可先取消）", code="PLAN_NOT_EDITABLE", details={"state": plan.state})
    before = plan.updated_at
    _apply(plan, data)
    _validate(user, plan)
    values = {f"set__{k}": getattr(plan, k) for k in PLAN_FIELDS}
    values.update(set__filters=plan.filters, set__mandatory=plan.mandatory, set__updated_at=now)
    if not Plan.objects(id=plan.id, state__in=EDITABLE_STATES, updated_at=before).update_one(**values):
        raise Conflict("计划已被他人修改或已提交，请刷新后重试", code="PLAN_CHANGED")
    audit.record("draw.plan_updated", actor=_actor(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"fields": sorted(data)}, now=now)
    return Plan.objects.get(id=plan.id)


def delete_plan(user: User, plan_id: str, *, now: datetime) -> None:
    plan = plan_in_scope(user, plan_id)
    if not Plan.objects(id=plan.id, state="draft", draw_count=0).delete():
        raise Conflict("只能删除从未提交承诺的草稿计划", code="PLAN_NOT_DELETABLE", details={"state": plan.state})
    audit.record("draw.plan_deleted", actor=_actor(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"name": plan.name}, now=now)


# --------------------------------------------------------------------------- snapshot

def risk_settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out = dict(DEFAULT_RISK)
    out.update(config or {})
    return out


def weight_of(inst, risk: Mapping[str, Any]) -> str:
    """Risk weight with exactly 6 decimals (Decimal arithmetic, capped at ``max_weight``)."""
    profile = getattr(inst, "risk", None)
    past = int(getattr(profile, "past_findings", 0) or 0)
    overdue = int(getattr(profile, "overdue_rectifications", 0) or 0)
    rejected = int(getattr(profile, "rejected_answers", 0) or 0)
    low_satisfaction = int(getattr(profile, "low_satisfaction", 0) or 0)
    complaints = int(getattr(inst, "complaint_count", 0) or 0)
    weight = (Decimal(1) + Decimal(str(risk["per_past_finding"])) * past
              + Decimal(str(risk["per_overdue_rectification"])) * overdue
              + Decimal(str(risk["per_complaint"])) * complaints
              + Decimal(str(risk["per_rejected_answer"])) * rejected
              + Decimal(str(risk.get("per_low_satisfaction", 0))) * low_satisfaction)
    weight = min(weight, Decimal(str(risk["max_weight"])))
    weight = max(weight, SIX)
    return str(weight.quantize(SIX, rounding=ROUND_HALF_UP))


def _stratum(inst, stratification: str) -> str:
    if stratification == "county":
        return inst.region
    if stratification == "kind":
        return inst.kind
    return "all"


def build_snapshot(plan: Plan, *, now: datetime, risk: Mapping[str, Any]) -> tuple[dict, dict]:
    """The frozen params and snapshot of DESIGN §5 for ``plan`` as of ``now``."""
    params, snapshot, _candidates = _build_snapshot(plan, now=now, risk=risk)
    return params, snapshot


def _build_snapshot(plan: Plan, *, now: datetime, risk: Mapping[str, Any]) -> tuple[dict, dict, list]:
    """:func:`build_snapshot` plus the candidate institutions themselves."""
    f = plan.filters or TargetFilters()
    prefix = _prefix(f.region_prefix) if f.region_prefix else region_prefix(plan.region)
    found = [i for i in directory.find_institutions(region_prefix=prefix, kinds=f.kinds or None, tags=f.tags or None,
                                                    statuses=f.statuses or None)
             if _matches_filters(i, plan)]
    mandatory = {m.institution_id for m in plan.mandatory}
    if plan.exclude_inspected_within_days:
        cutoff = as_utc(now) - timedelta(days=plan.exclude_inspected_within_days)

        def recent(inst) -> bool:
            last = getattr(getattr(inst, "risk", None), "last_inspected_at", None)
            return last is not None and as_utc(last) > cutoff

        found = [i for i in found if str(i.id) in mandatory or not recent(i)]
    if not found:
        raise Unprocessable("按计划范围和筛选条件没有可抽取的机构", code="NO_CANDIDATES")
    candidate_ids = {str(i.id) for i in found}
    missing = sorted(mandatory - candidate_ids)
    if missing:
        raise Unprocessable("必查对象不在计划范围或筛选条件内", code="MANDATORY_OUT_OF_SCOPE",
                            details={"institution_id": missing[0]})
    weigh = risk if plan.risk_weighting else None
    institutions = [{"id": str(i.id), "region": i.region, "stratum": _stratum(i, plan.stratification),
                     "weight": weight_of(i, weigh) if weigh else "1.000000", "mandatory": str(i.id) in mandatory}
                    for i in sorted(found, key=lambda x: str(x.id))]

    pool = list(directory.find_inspectors(region_prefix=region_prefix(plan.region),
                                          departments=list(plan.departments) or None, active=True))
    pool = [p for p in pool if p.active and in_scope(plan.region, p.region)
            and (not plan.departments or p.department in plan.departments)]
    if len(pool) < plan.team_size:
        raise Unprocessable("可用执法人员少于检查组人数", code="NOT_ENOUGH_INSPECTORS",
                            details={"inspectors": len(pool), "team_size": plan.team_size})
    inspector_ids = {str(p.id) for p in pool}
    work = kinds.handler(plan.kind)
    loads = work.open_loads(inspector_ids)
    inspectors = [{"id": str(p.id), "department": p.department, "region": p.region, "load": loads.get(str(p.id), 0),
                   "load_cap": min(plan.load_cap, p.load_cap or plan.load_cap)}
                  for p in sorted(pool, key=lambda x: str(x.id))]
    today = as_utc(now).astimezone(SHANGHAI).date()
    pairs = directory.conflict_pairs(inspector_ids=sorted(inspector_ids), institution_ids=sorted(candidate_ids),
                                     on=today)
    conflicts = sorted([a, b] for a, b in pairs if a in inspector_ids and b in candidate_ids)
    leads = work.previous_leads(candidate_ids)
    previous_leads = {k: leads[k] for k in sorted(leads)}
    params = {"ratio": plan.ratio, "count": plan.count, "min_per_stratum": plan.min_per_stratum,
              "team_size": plan.team_size, "required_departments": list(plan.required_departments),
              "cross_region": bool(plan.cross_region), "no_repeat_lead": bool(plan.no_repeat_lead)}
    snapshot = {"institutions": institutions, "inspectors": inspectors, "conflicts": conflicts,
                "previous_leads": previous_leads}
    return params, snapshot, found


# --------------------------------------------------------------------------- checklists by institution kind

def _published_checklist_kinds(purpose: str = "site_inspection") -> dict[str, set[str]]:
    """Every published checklist of ``purpose`` (its latest version) and the institution kinds it covers."""
    out = {}
    for entry in catalog.list_checklists(None):  # no user: published versions only
        version = catalog.latest_version(entry["code"])
        if version is not None and catalog.checklist_purpose(version) == purpose:
            out[version.code] = set((version.content or {}).get("kinds") or [])
    return out


def checklist_for_kind(kind: str | None, plan_checklist: str, matters: Iterable[str],
                       published: Mapping[str, set[str]] | None = None) -> str | None:
    """The checklist an institution of ``kind`` is inspected with under a plan, or None if none covers it.

    A plan names one checklist, but its candidates may be of kinds that
    checklist does not cover (e.g. community stations under DB37/T 4086, the
    institutional standard; they belong to DB37/T 4087, the community one), and
    scoring refuses a checklist that does not list the institution's kind.  An
    office expects each institution to be inspected against the standard that
    applies to it, so the choice is per target: the plan's checklist when it
    covers the kind; otherwise the checklist of the first of the plan's matters
    whose checklist covers it; otherwise the first published checklist (by
    code) that covers it.  The choice per kind is fixed at commit and published
    with the plan (``plan.checklists_by_kind`` in the record); a candidate whose
    kind no published checklist covers is refused at commit (422).
    """
    published = _published_checklist_kinds() if published is None else published
    if kind is None or kind in published.get(plan_checklist, ()):
        return plan_checklist
    for code in matters:
        matter = catalog.get_matter(code)
        if matter is not None and kind in published.get(matter.checklist_code, ()):
            return matter.checklist_code
    return next((code for code in sorted(published) if kind in published[code]), None)


def _checklists_by_kind(plan: Plan, candidates: list) -> dict[str, str]:
    """``{kind: checklist code}`` for the candidates' kinds; 422 naming the institutions no checklist covers."""
    published = _published_checklist_kinds(PLAN_KIND_PURPOSES[plan.kind or "site"])
    out: dict[str, str] = {}
    uncovered = []
    for inst in sorted(candidates, key=lambda i: str(i.id)):
        if inst.kind not in out:
            code = checklist_for_kind(inst.kind, plan.checklist_code, plan.matters, published)
            if code is not None:
                out[inst.kind] = code
        if inst.kind not in out:
            uncovered.append(inst)
    if uncovered:
        names = "、".join(i.name for i in uncovered[:5]) + (f" 等 {len(uncovered)} 家" if len(uncovered) > 5 else "")
        raise Unprocessable(f"没有已发布的检查表适用于这些机构的类型：{names}；"
                            "请调整筛选条件（机构类型）或先发布适用的检查表",
                            code="CHECKLIST_KIND_NOT_COVERED",
                            details={"kinds": sorted({i.kind for i in uncovered}),
                                     "institutions": [{"id": str(i.id), "name": i.name, "kind": i.kind}
                                                      for i in uncovered[:50]],
                                     "count": len(uncovered)})
    return {k: out[k] for k in sorted(out)}


def _plan_summary(plan: Plan) -> dict[str, Any]:
    f = plan.filters or TargetFilters()
    return {"id": str(plan.id), "name": plan.name, "kind": plan.kind or "site", "region": plan.region,
            "period_start": plan.period_start.isoformat(), "period_end": plan.period_end.isoformat(),
            "matters": list(plan.matters), "checklist_code": plan.checklist_code,
            "departments": list(plan.departments),
            "filters": {"region_prefix": f.region_prefix, "kinds": list(f.kinds), "tags": list(f.tags),
                        "statuses": list(f.statuses)},
            "stratification": plan.stratification, "risk_weighting": bool(plan.risk_weighting),
            "exclude_inspected_within_days": plan.exclude_inspected_within_days,
            "mandatory": [{"institution_id": m.institution_id, "reason": m.reason} for m in plan.mandatory],
            "load_cap": plan.load_cap}


def dump_record(record: Mapping[str, Any]) -> str:
    """The downloaded text of a record: compact JSON; no hash is computed over it."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def pack_record(text: str) -> bytes:
    """The stored form of a record's text (``Draw.record_gz``)."""
    return zlib.compress(text.encode("utf-8"), 6)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def checked_record(record: Mapping[str, Any], *, still_to_come: int = 0) -> bytes:
    """The packed record, refused with 422 when it (plus ``still_to_come`` bytes) exceeds MAX_RECORD_BYTES."""
    packed = pack_record(dump_record(record))
    size = len(packed) + still_to_come
    if size > MAX_RECORD_BYTES:
        raise Unprocessable(
            f"抽取记录过大（约 {_mib(size)} MiB，超过 {_mib(MAX_RECORD_BYTES)} MiB 的存储上限），"
            "请缩小计划范围（区划、机构类型、标签等筛选条件）或拆分为多个计划后重试",
            code="DRAW_RECORD_TOO_LARGE", details={"bytes": size, "max_bytes": MAX_RECORD_BYTES,
                                                   "candidates": len(record["snapshot"]["institutions"])})
    return packed


def _result_bytes(params: Mapping[str, Any], snapshot: Mapping[str, Any]) -> int:
    """An upper bound of what the draw adds to a committed record (nonce, entropy, seed, result).

    The number of targets follows from the params and the strata alone (DESIGN §5
    step 6), so it is known at commit; ids are counted at their longest.
    """
    institutions = snapshot["institutions"]
    sizes: dict[str, int] = {}
    mandatory: dict[str, int] = {}
    for inst in institutions:
        sizes[inst["stratum"]] = sizes.get(inst["stratum"], 0) + 1
        mandatory[inst["stratum"]] = mandatory.get(inst["stratum"], 0) + bool(inst["mandatory"])
    n = sum(dr1.allocate(sizes, dr1.sample_size(params, len(institutions)), params["min_per_stratum"],
                         mandatory).values())
    id_len = max((len(i["id"].encode("utf-8")) for i in institutions), default=0) + 3
    member_len = max((len(x["id"].encode("utf-8")) for x in snapshot["inspectors"]), default=0) + 3
    per_target = id_len + (id_len + 1) + params["team_size"] * member_len + 2
    fixed = 2048  # nonce, seed, public entropy (<= 256 characters, 4 bytes each), drawn_at, keys
    return fixed + n * per_target


def record_of(draw: Draw) -> dict[str, Any]:
    """The public record (nonce, seed and result only once drawn)."""
    return json.loads(draw.record_json)


# --------------------------------------------------------------------------- lifecycle

def commit_plan(user: User, plan_id: str, *, now: datetime, risk: Mapping[str, Any] | None = None) -> Draw:
    """Freeze the snapshot and publish the commitment (draft/cancelled → committed)."""
    plan = plan_in_scope(user, plan_id)
    if plan.state not in EDITABLE_STATES:
        raise Conflict("计划已提交承诺，需先取消才能重新提交", code="PLAN_ALREADY_COMMITTED",
                       details={"state": plan.state, "draw_id": plan.current_draw_id})
    _validate(user, plan)
    params, snapshot, candidates = _build_snapshot(plan, now=now, risk=risk_settings(risk))
    summary = _plan_summary(plan)
    summary["checklists_by_kind"] = _checklists_by_kind(plan, candidates)
    nonce = secrets.token_hex(32)
    commitment = dr1.make_commitment(params, snapshot, nonce)
    draw_id = ObjectId()
    seq = plan.draw_count + 1
    record = {"algorithm": ALGORITHM, "params": params, "snapshot": snapshot, "commitment": commitment,
              "draw_id": str(draw_id), "seq": seq, "plan": summary, "committed_at": isoformat(now),
              "amendments": [], "cancellation": None}
    stored = checked_record(record, still_to_come=_result_bytes(params, snapshot))
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
    audit.record("draw.committed", actor=_actor(user), target_type="draw", target_id=str(draw_id),
                 region=plan.region, data={"plan_id": str(plan.id), "commitment": commitment, "seq": seq,
                                           "candidates": len(snapshot["institutions"]),
                                           "inspectors": len(snapshot["inspectors"])}, now=now)
    return draw


def _current_draw(plan: Plan) -> Draw:
    draw = Draw.objects(id=_oid(plan.current_draw_id)).first() if plan.current_draw_id else None
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
    inst_kinds = {iid: inst.kind for iid, inst in _institutions_by_id(targets).items()}
    by_kind = dict(plan.get("checklists_by_kind") or {})
    published = None
    work = []
    for iid in targets:
        kind = inst_kinds.get(iid)
        code = by_kind.get(kind)
        if code is None:  # a record committed before the choice by kind, or a kind changed since the commit
            published = _published_checklist_kinds(PLAN_KIND_PURPOSES[plan_kind]) if published is None else published
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
        audit.record("draw.failed", actor=_actor(user), target_type="draw", target_id=str(draw.id),
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
    audit.record("draw.drawn", actor=_actor(user), target_type="draw", target_id=str(draw.id), region=plan.region,
                 data={"plan_id": str(plan.id), "seed": seed, "public_entropy": public_entropy,
                       "targets": len(result["targets"])}, now=now)
    return draw


def _draw_failure(exc: dr1.DrawError, institution_id: str | None) -> Unprocessable:
    """The engine's DrawError as a 422 naming the institution by name as well as by id.

    The pure engine knows ids only; the name comes from the directory here.
    """
    inst = _institutions_by_id([institution_id]).get(institution_id) if institution_id else None
    name = inst.name if inst is not None else None
    message = exc.message
    if name:
        named = f"机构“{name}”（{institution_id}）"
        message = (message.replace(f"机构 {institution_id} ", named, 1) if f"机构 {institution_id} " in message
                   else f"{named}：{message}")
    return Unprocessable(message, code=exc.code, details={
        "institution_id": institution_id, "institution_name": name, "slot": exc.slot, "counts": exc.counts})


def current_teams(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """The drawn teams with every amendment applied (positions kept, lead first)."""
    teams = {k: list(v) for k, v in (record.get("result") or {}).get("teams", {}).items()}
    for amendment in record.get("amendments") or []:
        iid = amendment.get("institution", amendment.get("institution_id"))
        teams[iid] = [amendment["replacement"] if x == amendment["replaced"] else x for x in teams.get(iid, [])]
    return teams


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
    audit.record("draw.amended", actor=_actor(user), target_type="draw", target_id=str(draw.id), region=plan.region,
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
    audit.record("draw.cancelled", actor=_actor(user), target_type="draw", target_id=str(draw.id),
                 region=plan.region, data={"plan_id": str(plan.id), "reason": reason,
                                           "assignments_cancelled": cancelled}, now=now)
    draw.reload()
    return draw


# --------------------------------------------------------------------------- reads

def draw_in_scope(user: User, draw_id: str) -> Draw:
    oid = _oid(draw_id)
    draw = Draw.objects(id=oid).first() if oid else None
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
    oid = _oid(draw_id)
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
    insts = _institutions_by_id(a.get("institution", a.get("institution_id")) for a in amendments)
    people = _inspectors_by_id([a["replaced"] for a in amendments] + [a["replacement"] for a in amendments])
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
        insts = _institutions_by_id(result["targets"])
        people = _inspectors_by_id({m for team in teams.values() for m in team})
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
